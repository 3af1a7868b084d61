import type { Blob } from '../blob.js';
import { Layer } from '../layer.js';

/** Element-wise layers: top has the bottom's shape and may be the bottom itself (in place). */
export abstract class NeuronLayer extends Layer {
  override reshape(bottom: Blob[], top: Blob[]): void {
    if (top[0] !== bottom[0]) top[0]!.reshapeLike(bottom[0]!);
  }
}
