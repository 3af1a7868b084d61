import { Layer } from '../layer.js';
import { lossNormalization, type Normalization } from './loss-common.js';

/**
 * What the loss layers that compare predictions with a label blob share (Caffe's LossLayer with its
 * LossParameter): two bottoms, predictions then labels; a loss top; no gradient into the labels;
 * ignore_label; and the normalisation mode, whose default each layer names (Caffe's differ per layer).
 */
export abstract class NormalizedLossLayer extends Layer {
  /** the normalisation when loss_param names none */
  protected abstract readonly defaultNormalization: Normalization;
  /** loss_param's ignore_label, or null */
  protected ignore: number | null = null;
  /** loss_param's normalisation (read at set-up) */
  protected mode: Normalization = 'VALID';
  /** the normaliser of the last forward pass: backward scales by the same one */
  protected norm = 1;

  override get bottomRange(): [number, number] {
    return [2, 2];
  }

  override get isLoss(): boolean {
    return true;
  }

  override allowBackward(i: number): boolean {
    return i === 0;
  }

  protected override layerSetUp(): void {
    const lp = this.def.msg('loss_param');
    this.ignore = lp.has('ignore_label') ? lp.num('ignore_label') : null;
    this.mode = lossNormalization(lp, this.defaultNormalization);
  }

  /** whether a position with this label is left out of the loss and gets no gradient */
  protected isIgnored(label: number): boolean {
    return this.ignore !== null && label === this.ignore;
  }
}
