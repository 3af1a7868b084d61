import type { Blob } from '../blob.js';
import { Layer } from '../layer.js';

/** Tops whose values the caller writes (deploy nets, tests): one shape for all tops or one per top. */
export class InputLayer extends Layer {
  override get bottomRange(): [number, number] {
    return [0, 0];
  }

  override get topRange(): [number, number] {
    return [1, Infinity];
  }

  protected override layerSetUp(_bottom: Blob[], top: Blob[]): void {
    const p = this.def.msg('input_param');
    const shapes = p.msgs('shape');
    if (shapes.length !== 1 && shapes.length !== top.length) {
      throw this.defError(`input_param has ${shapes.length} shapes for ${top.length} tops (give one, or one per top)`, p);
    }
    top.forEach((t, i) => {
      const dims = (shapes[shapes.length === 1 ? 0 : i]!).nums('dim');
      if (dims.some((d) => d < 0)) throw this.defError(`negative dimension in shape [${dims.join(', ')}]`, p, 'shape');
      t.reshape(dims);
    });
  }

  override reshape(): void {
    // the caller reshapes the tops when it changes the input size
  }

  override forward(): void {}

  override backward(): void {}
}
