import type { Rng } from '../runtime/asgd/rng.js';
import type { Blob } from './blob.js';
import { DefinitionError } from './errors.js';
import type { Msg } from './proto/message.js';

export const FILLER_TYPES = ['constant', 'uniform', 'gaussian', 'xavier', 'msra'] as const;

/** Check a FillerParameter where it is read, so that a bad filler fails at net set-up, not at init. */
export function checkFiller(p: Msg, where: string): void {
  const type = p.str('type');
  if (!(FILLER_TYPES as readonly string[]).includes(type)) {
    throw new DefinitionError(`${where}: unknown filler type '${type}'; known: ${FILLER_TYPES.join(', ')}`, p.loc('type'));
  }
  if (p.num('sparse') >= 0) throw new DefinitionError(`${where}: sparse gaussian fillers are not supported`, p.loc('sparse'));
  if (type === 'uniform' && p.num('max') < p.num('min')) throw new DefinitionError(`${where}: uniform filler with max < min`, p.loc('max'));
}

/**
 * Fill `blob.data` as Caffe's fillers do (filler.hpp). Fan-in and fan-out follow Caffe: fan_in =
 * count / shape[0] (for a convolution: input channels × kernel area), fan_out = count / shape[1].
 */
export function fillBlob(blob: Blob, p: Msg, rng: Rng): void {
  const data = blob.data;
  const n = blob.count;
  switch (p.str('type')) {
    case 'constant': {
      data.fill(p.num('value'), 0, n);
      return;
    }
    case 'uniform': {
      const lo = p.num('min');
      const hi = p.num('max');
      for (let i = 0; i < n; i++) data[i] = lo + (hi - lo) * rng.uniform();
      return;
    }
    case 'gaussian': {
      const mean = p.num('mean');
      const std = p.num('std');
      for (let i = 0; i < n; i++) data[i] = mean + std * rng.gaussian();
      return;
    }
    case 'xavier': {
      const a = Math.sqrt(3 / fanNorm(blob, p));
      for (let i = 0; i < n; i++) data[i] = -a + 2 * a * rng.uniform();
      return;
    }
    case 'msra': {
      const std = Math.sqrt(2 / fanNorm(blob, p));
      for (let i = 0; i < n; i++) data[i] = std * rng.gaussian();
      return;
    }
  }
  throw new DefinitionError(`unknown filler type '${p.str('type')}'`, p.loc('type'));
}

/** the `n` of the xavier and msra fillers, after variance_norm */
export function fanNorm(blob: Blob, p: Msg): number {
  const fanIn = blob.count / blob.shape[0]!;
  const fanOut = blob.shape.length > 1 ? blob.count / blob.shape[1]! : blob.count;
  switch (p.str('variance_norm')) {
    case 'FAN_OUT': return fanOut;
    case 'AVERAGE': return (fanIn + fanOut) / 2;
    default: return fanIn;
  }
}
