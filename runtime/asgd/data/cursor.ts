import type { DataCursor } from '../model.js';

/** Where a source that walks its partition epoch by epoch stands: the epoch, and samples into it. */
export interface EpochPosition {
  epoch: number;
  pos: number;
}

/**
 * The epoch and position of a cursor that such a source saved (`{ samples, epoch, pos }`), checked
 * against this partition's `size`: a cursor from another partition or job is a RangeError, not a
 * silently different stream.
 */
export function readEpochCursor(cursor: DataCursor, size: number): EpochPosition {
  const epoch = Number(cursor.epoch);
  const pos = Number(cursor.pos);
  if (!Number.isInteger(epoch) || epoch < 0 || !Number.isInteger(pos) || pos < 0 || pos > size) {
    throw new RangeError(`data cursor does not fit this partition (epoch ${String(cursor.epoch)}, pos ${String(cursor.pos)}, size ${size})`);
  }
  return { epoch, pos };
}
