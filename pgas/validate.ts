import { InvalidArgumentError, OutOfRangeError } from './errors.js';

/** Argument checks shared by every call of the context; each names the argument that is wrong. */
export function checkIndex(name: string, value: number, limit: number): void {
  if (!Number.isInteger(value) || value < 0 || value >= limit) {
    throw new InvalidArgumentError(`${name} must be an integer in [0, ${limit - 1}], got ${String(value)}`);
  }
}

export function checkTimeout(timeoutMs: number): void {
  if (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs) || timeoutMs < 0) {
    throw new InvalidArgumentError(`timeout must be a number of milliseconds >= 0 (or Infinity), got ${String(timeoutMs)}`);
  }
}

export function checkLength(length: number): void {
  if (!Number.isInteger(length) || length <= 0) {
    throw new InvalidArgumentError(`length must be a positive integer number of bytes, got ${String(length)}`);
  }
}

/** `[offset, offset + length)` must lie inside a segment of `bytes` bytes. */
export function checkRange(what: string, offset: number, length: number, bytes: number): void {
  if (!Number.isInteger(offset) || offset < 0) {
    throw new OutOfRangeError(`${what} offset must be a non-negative integer, got ${String(offset)}`);
  }
  if (offset + length > bytes) {
    throw new OutOfRangeError(
      `${what} range [${offset}, ${offset + length}) is outside the segment (${bytes} bytes)`,
    );
  }
}

export function checkNotificationValue(value: number): void {
  if (!Number.isInteger(value) || value === 0 || value < -(2 ** 31) || value >= 2 ** 32) {
    throw new InvalidArgumentError(`notification value must be a non-zero 32-bit integer, got ${String(value)}`);
  }
}
