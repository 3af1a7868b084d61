import { ShapeError } from './errors.js';

const EMPTY = new Float32Array(0);

/**
 * Caffe's Blob: an N-d array with a value (`data`) and a gradient (`diff`) of the same shape,
 * row-major (NCHW for images). The arrays may be longer than `count` (a blob keeps its capacity when it
 * shrinks, so a reshape back and forth allocates nothing); loops must use `count`.
 *
 * A learnable blob is *bound*: its data and diff are views into the net's one parameter array and one
 * gradient array (the numeric core sends the whole state with one put), and its shape is then fixed.
 */
export class Blob {
  readonly name: string;
  shape: number[] = [];
  count = 0;
  data: Float32Array = EMPTY;
  diff: Float32Array = EMPTY;
  /** offset of this blob in the net's parameter array, or -1 while it owns its storage */
  offset = -1;
  private capacity = 0;

  constructor(name: string, shape?: readonly number[]) {
    this.name = name;
    if (shape) this.reshape(shape);
  }

  get bound(): boolean {
    return this.offset >= 0;
  }

  /** Change the shape; allocates only when the new count exceeds the capacity. */
  reshape(shape: readonly number[]): void {
    let count = 1;
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) throw new ShapeError(`blob '${this.name}': bad dimension ${d} in shape [${shape.join(', ')}]`);
      count *= d;
    }
    if (this.bound) {
      if (count !== this.count) throw new ShapeError(`blob '${this.name}' is a view into the parameter array; it cannot change from ${this.shapeString()} to [${shape.join(', ')}]`);
      this.shape = shape.slice();
      return;
    }
    this.shape = shape.slice();
    this.count = count;
    if (count > this.capacity) {
      this.capacity = count;
      this.data = new Float32Array(count);
      this.diff = new Float32Array(count);
    }
  }

  reshapeLike(other: Blob): void {
    this.reshape(other.shape);
  }

  /** Make data and diff views of `params` and `grads` at `offset` (the shape must be set). */
  bind(params: Float32Array, grads: Float32Array, offset: number): void {
    if (offset + this.count > params.length || offset + this.count > grads.length) {
      throw new ShapeError(`blob '${this.name}' (${this.count} values at offset ${offset}) does not fit the parameter arrays (${params.length}, ${grads.length})`);
    }
    this.data = params.subarray(offset, offset + this.count);
    this.diff = grads.subarray(offset, offset + this.count);
    this.offset = offset;
    this.capacity = this.count;
  }

  get numAxes(): number {
    return this.shape.length;
  }

  /** Caffe's CanonicalAxisIndex: negative axes count from the end. */
  canonicalAxis(axis: number): number {
    const n = this.shape.length;
    if (axis < -n || axis >= Math.max(n, 1)) throw new ShapeError(`axis ${axis} is out of range for blob '${this.name}' with shape ${this.shapeString()}`);
    return axis < 0 ? axis + n : axis;
  }

  /** product of the dimensions in [start, end) */
  countRange(start: number, end = this.shape.length): number {
    let c = 1;
    for (let i = start; i < end; i++) c *= this.shape[i]!;
    return c;
  }

  /** dimension `i` (negative from the end); 1 for legacy 4-d accessors past the end */
  dim(i: number): number {
    return this.shape[this.canonicalAxis(i)]!;
  }

  shapeString(): string {
    return `[${this.shape.join(', ')}] (${this.count})`;
  }

  sameShape(other: Blob): boolean {
    return this.shape.length === other.shape.length && this.shape.every((d, i) => d === other.shape[i]);
  }
}
