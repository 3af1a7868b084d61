import type { Msg } from '../proto/message.js';

export type Normalization = 'FULL' | 'VALID' | 'BATCH_SIZE' | 'NONE';

/** The loss normalisation of a LossParameter; the legacy `normalize` field maps as in Caffe. */
export function lossNormalization(p: Msg, fallback: Normalization): Normalization {
  if (p.has('normalization')) return p.str('normalization') as Normalization;
  if (p.has('normalize')) return p.bool('normalize') ? 'VALID' : 'BATCH_SIZE';
  return fallback;
}

/** Caffe's LossLayer::GetNormalizer, never below 1 */
export function normalizer(mode: Normalization, outer: number, inner: number, valid: number): number {
  let n: number;
  switch (mode) {
    case 'FULL': n = outer * inner; break;
    case 'VALID': n = valid; break;
    case 'BATCH_SIZE': n = outer; break;
    case 'NONE': n = 1; break;
  }
  return Math.max(1, n);
}
