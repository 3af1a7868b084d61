/**
 * NumPy `.npy` files (format versions 1, 2 and 3): a magic string, a header that is a Python dict
 * literal ({'descr': '<f4', 'fortran_order': False, 'shape': (n, d), }), then the array's bytes.
 * Supported: little-endian float32 and float64, C order, shape (n, d) or (n,) for d = 1. float64 is
 * converted to float32 through a bounded chunk buffer; float32 is read straight into the caller's array.
 */
import { closeSync } from 'node:fs';
import { DataFormatError, DataShortError, UsageError } from '../errors.js';
import type { PointSource } from '../source.js';
import { LITTLE_ENDIAN_HOST, checkFinite, openForReading, rankRows, readAt, readExactly, swap32, type FileReaderOptions } from './file.js';

export interface NpyHeader {
  /** 'f4' or 'f8' */
  dtype: 'f4' | 'f8';
  rows: number;
  dim: number;
  /** byte offset of the first data byte */
  dataStart: number;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const MAX_HEADER = 1 << 20;
/** float64 rows are converted in chunks of at most this many values */
const F8_CHUNK_VALUES = 1 << 16;

/** Parse and validate a .npy header from an open file. Errors name the file and the byte offset. */
export function readNpyHeader(file: string, fd: number, size: number): NpyHeader {
  const prefix = new Uint8Array(12);
  const got = readAt(file, fd, prefix, 12, 0);
  for (let i = 0; i < MAGIC.length; i++) {
    if (got <= i || prefix[i] !== MAGIC[i]) {
      throw new DataFormatError({ file, byteOffset: Math.min(i, got) }, 'not a NumPy .npy file (it does not start with \\x93NUMPY)');
    }
  }
  if (got < 10) throw new DataShortError({ file, byteOffset: got }, 'the .npy header is cut short');
  const major = prefix[6]!;
  const view = new DataView(prefix.buffer);
  let headerLength: number;
  let headerStart: number;
  if (major === 1) {
    headerLength = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (got < 12) throw new DataShortError({ file, byteOffset: got }, 'the .npy header is cut short');
    headerLength = view.getUint32(8, true);
    headerStart = 12;
  } else {
    throw new DataFormatError({ file, byteOffset: 6 }, `unsupported .npy format version ${major}.${prefix[7]} (1, 2 and 3 are supported)`);
  }
  if (headerLength > MAX_HEADER) throw new DataFormatError({ file, byteOffset: 8 }, `header length ${headerLength} is implausibly large`);
  const headerBytes = new Uint8Array(headerLength);
  const hgot = readAt(file, fd, headerBytes, headerLength, headerStart);
  if (hgot < headerLength) throw new DataShortError({ file, byteOffset: headerStart + hgot }, `the .npy header says ${headerLength} bytes but the file ends first`);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(headerBytes);
  const at = { file, byteOffset: headerStart };

  const descrKey = /['"]descr['"]\s*:\s*/.exec(header);
  if (!descrKey) throw new DataFormatError(at, `the .npy header has no 'descr': ${header.trim()}`);
  const descr = /^['"]([^'"]*)['"]/.exec(header.slice(descrKey.index + descrKey[0].length));
  if (!descr) throw new DataFormatError(at, 'unsupported dtype: a structured array (use a plain float32 or float64 array)');
  const dtype = descr[1]!;
  if (dtype !== '<f4' && dtype !== '<f8') {
    throw new DataFormatError(at, `unsupported dtype '${dtype}': only little-endian float32 ('<f4') and float64 ('<f8') are read; ` +
      "convert with arr.astype('<f4')");
  }
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header);
  if (!fortran) throw new DataFormatError(at, `the .npy header has no valid 'fortran_order': ${header.trim()}`);
  if (fortran[1] === 'True') {
    throw new DataFormatError(at, 'Fortran (column-major) order is not supported: save np.ascontiguousarray(arr) instead');
  }
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header);
  if (!shapeText) throw new DataFormatError(at, `the .npy header has no valid 'shape': ${header.trim()}`);
  const parts = shapeText[1]!.split(',').map((s) => s.trim().replace(/L$/, '')).filter((s) => s !== '');
  if (parts.some((s) => !/^\d+$/.test(s))) throw new DataFormatError(at, `bad shape (${shapeText[1]})`);
  const shape = parts.map(Number);
  if (shape.length !== 1 && shape.length !== 2) {
    throw new DataFormatError(at, `shape (${shapeText[1]}) is not a 2-D array of points (rows, dim)`);
  }
  const rows = shape[0]!;
  const dim = shape.length === 2 ? shape[1]! : 1;
  if (dim < 1) throw new DataFormatError(at, `shape (${shapeText[1]}) has no columns`);
  const dataStart = headerStart + headerLength;
  const itemSize = dtype === '<f4' ? 4 : 8;
  const needed = dataStart + rows * dim * itemSize;
  if (size < needed) {
    throw new DataShortError(
      { file, byteOffset: size },
      `the header's shape (${rows}, ${dim}) of ${dtype} needs ${needed} bytes, but the file ends at byte ${size}`,
    );
  }
  return { dtype: dtype === '<f4' ? 'f4' : 'f8', rows, dim, dataStart };
}

export class NpyReader implements PointSource {
  readonly description: string;
  readonly dim: number;
  readonly count: number;
  readonly iid = false;
  readonly file: string;
  readonly header: NpyHeader;
  readonly firstRow: number;
  private fd: number;
  private chunk: Float64Array | undefined;

  /** `dim`, when given (from --dim), must match the header's. */
  constructor(file: string, options: FileReaderOptions & { dim?: number } = {}) {
    this.file = file;
    const { fd, size } = openForReading(file);
    this.fd = fd;
    try {
      this.header = readNpyHeader(file, fd, size);
      this.dim = this.header.dim;
      if (options.dim !== undefined && options.dim !== this.dim) {
        throw new UsageError(`--dim ${options.dim} does not match ${file}, whose shape says ${this.dim} columns`);
      }
      if (this.header.rows === 0) throw new DataShortError({ file, byteOffset: this.header.dataStart }, 'the array has no rows');
      const [from, to] = rankRows(file, this.header.rows, options, 'rows');
      this.firstRow = from;
      this.count = to - from;
      this.description = `npy ${file}: ${this.header.rows} rows of ${this.dim} (${this.header.dtype === 'f4' ? 'float32' : 'float64'}); ` +
        `this rank reads rows [${from}, ${to})`;
    } catch (error) {
      closeSync(fd);
      throw error;
    }
  }

  read(from: number, to: number, out: Float32Array, outOffset = 0): void {
    if (from < 0 || to > this.count || from > to) throw new RangeError(`rows [${from}, ${to}) outside this partition of ${this.count}`);
    const { dim } = this;
    const { dataStart, dtype } = this.header;
    const row = this.firstRow + from;
    const rows = to - from;
    if (rows === 0) return;
    if (dtype === 'f4') {
      const bytes = new Uint8Array(out.buffer, out.byteOffset + outOffset * 4, rows * dim * 4);
      readExactly(this.file, this.fd, bytes, bytes.length, dataStart + row * dim * 4);
      if (!LITTLE_ENDIAN_HOST) swap32(bytes);
      checkFinite(this.file, out, outOffset, rows, dim, row, dataStart, dim * 4);
      return;
    }
    if (!LITTLE_ENDIAN_HOST) throw new DataFormatError({ file: this.file }, 'float64 .npy files are read only on little-endian hosts');
    const chunkRows = Math.max(1, Math.floor(F8_CHUNK_VALUES / dim));
    this.chunk ??= new Float64Array(Math.min(chunkRows, this.count) * dim);
    const chunk = this.chunk;
    const chunkBytes = new Uint8Array(chunk.buffer);
    for (let done = 0; done < rows; done += chunkRows) {
      const n = Math.min(chunkRows, rows - done);
      readExactly(this.file, this.fd, chunkBytes, n * dim * 8, dataStart + (row + done) * dim * 8);
      const o = outOffset + done * dim;
      for (let i = 0; i < n * dim; i++) out[o + i] = chunk[i]!;
      checkFinite(this.file, out, o, n, dim, row + done, dataStart, dim * 8);
    }
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}
