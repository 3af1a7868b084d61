/**
 * File plumbing shared by the readers: opening with typed errors, positioned reads that fill a buffer
 * (or say how far the file really went), the finite-value check, and the options every reader takes.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { endianness } from 'node:os';
import { DataFormatError, DataIoError, DataShortError } from '../errors.js';

export interface FileReaderOptions {
  /** this rank and the number of ranks: the reader serves only this rank's part of the file */
  rank?: number;
  ranks?: number;
  /** every rank needs at least this many rows (default 1); fewer is a DataShortError */
  minRowsPerRank?: number;
}

export const LITTLE_ENDIAN_HOST = endianness() === 'LE';

export interface OpenFile {
  fd: number;
  size: number;
}

export function openForReading(file: string): OpenFile {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    throw new DataIoError(file, error);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new Error('not a regular file');
    return { fd, size: stat.size };
  } catch (error) {
    closeSync(fd);
    throw new DataIoError(file, error);
  }
}

/** Read up to `length` bytes at `position` into `into` (from its start); returns the bytes read (short only at EOF). */
export function readAt(file: string, fd: number, into: Uint8Array, length: number, position: number): number {
  let done = 0;
  while (done < length) {
    let n: number;
    try {
      n = readSync(fd, into, done, length - done, position + done);
    } catch (error) {
      throw new DataIoError(file, error);
    }
    if (n === 0) break;
    done += n;
  }
  return done;
}

/** Like readAt, but a short read means the file shrank or lies about its size: a DataShortError. */
export function readExactly(file: string, fd: number, into: Uint8Array, length: number, position: number): void {
  const got = readAt(file, fd, into, length, position);
  if (got < length) {
    throw new DataShortError({ file, byteOffset: position + got }, `file ends at byte ${position + got}, but ${length} bytes were needed from byte ${position}`);
  }
}

/** Reverse the byte order of every 4-byte word (big-endian hosts reading little-endian data). */
export function swap32(bytes: Uint8Array): void {
  for (let i = 0; i + 3 < bytes.length; i += 4) {
    const a = bytes[i]!;
    const b = bytes[i + 1]!;
    bytes[i] = bytes[i + 3]!;
    bytes[i + 1] = bytes[i + 2]!;
    bytes[i + 2] = b;
    bytes[i + 3] = a;
  }
}

/**
 * NaN or ±Infinity in data would poison every centre it touches: reject it, naming the row and byte.
 * `firstRow` is the file row of values[start]; `dataStart` and `rowBytes` turn a row into a byte offset.
 */
export function checkFinite(
  file: string, values: Float32Array, start: number, rows: number, dim: number,
  firstRow: number, dataStart: number, rowBytes: number,
): void {
  const end = start + rows * dim;
  for (let i = start; i < end; i++) {
    const v = values[i]!;
    if (v - v !== 0) {
      const row = firstRow + Math.floor((i - start) / dim);
      const col = (i - start) % dim;
      throw new DataFormatError(
        { file, row, byteOffset: dataStart + row * rowBytes + col * (rowBytes / dim) },
        `value ${v} in column ${col} is not a finite number`,
      );
    }
  }
}

/** The rows of a file that rank `rank` of `ranks` reads, with the check that it gets enough. */
export function rankRows(file: string, totalRows: number, options: FileReaderOptions, unit: string): [number, number] {
  const rank = options.rank ?? 0;
  const ranks = options.ranks ?? 1;
  const min = options.minRowsPerRank ?? 1;
  const base = Math.floor(totalRows / ranks);
  const extra = totalRows - base * ranks;
  const from = rank * base + Math.min(rank, extra);
  const to = from + base + (rank < extra ? 1 : 0);
  if (to - from < min) {
    throw new DataShortError(
      { file },
      `the file holds ${totalRows} ${unit}, too few for ${ranks} rank${ranks === 1 ? '' : 's'} to get ${min} each ` +
      `(rank ${rank} would get ${to - from})`,
    );
  }
  return [from, to];
}
