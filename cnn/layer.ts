import type { Rng } from '../runtime/asgd/rng.js';
import { Blob } from './blob.js';
import { DefinitionError, ShapeError } from './errors.js';
import type { Msg } from './proto/message.js';

export type Phase = 'TRAIN' | 'TEST';

/** What a layer may know of the net it is in: the phase, a random stream, its data partition. */
export interface LayerContext {
  phase: Phase;
  /** the net's own random stream (dropout masks, data shuffling) */
  rng: Rng;
  /** this rank's part of the training data, and how many parts there are */
  part: number;
  parts: number;
  seed: number;
  /** directory that relative paths in the definition are resolved against */
  baseDir: string;
}

/** Learning-rate and weight-decay multipliers of one parameter blob (Caffe's ParamSpec). */
export interface ParamMults {
  lrMult: number;
  decayMult: number;
}

/**
 * Caffe's Layer: set-up once (check the bottoms, create the parameter blobs' shapes), reshape
 * whenever the bottoms change shape, forward (bottoms → tops) and backward (top diffs → bottom diffs
 * and parameter diffs, *accumulated* into the parameter diffs, as Caffe does: the net clears them).
 *
 * Parameter blobs are created with a shape only; the net then binds them into its one parameter array
 * and calls `fill` for their initial values.
 */
export abstract class Layer {
  readonly name: string;
  readonly type: string;
  readonly def: Msg;
  readonly ctx: LayerContext;
  /** the parameter blobs (learnable or state, like BatchNorm's statistics), in Caffe's order */
  readonly blobs: Blob[] = [];
  /** loss weight of each top (0 for tops that are not a loss) */
  lossWeights: number[] = [];

  constructor(def: Msg, ctx: LayerContext) {
    this.def = def;
    this.name = def.str('name');
    this.type = def.str('type');
    this.ctx = ctx;
  }

  /** bottoms the layer takes: [min, max] */
  get bottomRange(): [number, number] {
    return [1, 1];
  }

  /** tops the layer makes: [min, max] */
  get topRange(): [number, number] {
    return [1, 1];
  }

  /** loss layers: the default loss weight of top 0 is 1 */
  get isLoss(): boolean {
    return false;
  }

  /** whether a gradient may flow into bottom `i` (false for labels) */
  allowBackward(i: number): boolean {
    void i;
    return true;
  }

  setUp(bottom: Blob[], top: Blob[]): void {
    this.checkCounts(bottom, top);
    this.layerSetUp(bottom, top);
    this.reshape(bottom, top);
    const weights = this.def.nums('loss_weight');
    if (weights.length > 0 && weights.length !== top.length) {
      throw new DefinitionError(`layer '${this.name}': ${weights.length} loss_weight values for ${top.length} tops`, this.def.loc('loss_weight'));
    }
    this.lossWeights = top.map((_, i) => weights[i] ?? (this.isLoss && i === 0 ? 1 : 0));
  }

  private checkCounts(bottom: Blob[], top: Blob[]): void {
    const [bmin, bmax] = this.bottomRange;
    const [tmin, tmax] = this.topRange;
    const range = (lo: number, hi: number): string => (lo === hi ? `${lo}` : hi === Infinity ? `at least ${lo}` : `${lo} to ${hi}`);
    if (bottom.length < bmin || bottom.length > bmax) {
      throw new DefinitionError(`layer '${this.name}' (${this.type}) takes ${range(bmin, bmax)} bottom(s), got ${bottom.length}`, this.def.loc());
    }
    if (top.length < tmin || top.length > tmax) {
      throw new DefinitionError(`layer '${this.name}' (${this.type}) makes ${range(tmin, tmax)} top(s), got ${top.length}`, this.def.loc());
    }
  }

  /** one-time set-up: read parameters, create parameter blobs (shape only) */
  protected layerSetUp(bottom: Blob[], top: Blob[]): void {
    void bottom;
    void top;
  }

  abstract reshape(bottom: Blob[], top: Blob[]): void;
  abstract forward(bottom: Blob[], top: Blob[]): void;
  abstract backward(top: Blob[], propagateDown: boolean[], bottom: Blob[]): void;

  /** write the initial values of the parameter blobs (they are bound by then) */
  fill(rng: Rng): void {
    void rng;
  }

  /** the multipliers of parameter blob `i`: the layer's `param` entries, Caffe's defaults 1 and 1 */
  paramMults(i: number): ParamMults {
    const spec = this.def.msgs('param')[i];
    return { lrMult: spec ? spec.num('lr_mult') : 1, decayMult: spec ? spec.num('decay_mult') : 1 };
  }

  /** whether parameter blob `i` is learned by gradient (false for state such as BatchNorm's statistics) */
  learnable(i: number): boolean {
    void i;
    return true;
  }

  /** a ShapeError that names this layer */
  shapeError(message: string): ShapeError {
    return new ShapeError(`layer '${this.name}' (${this.type}, ${this.def.file}:${this.def.line}): ${message}`);
  }

  /** a DefinitionError at this layer's parameter `field` of sub-message `param` */
  defError(message: string, param?: Msg, field?: string): DefinitionError {
    return new DefinitionError(`layer '${this.name}' (${this.type}): ${message}`, (param ?? this.def).loc(field));
  }
}
