/**
 * Raw little-endian float32 files: rows of `dim` floats, nothing else (what `numpy.ndarray.tofile`
 * writes, and what the kmeans CLI writes for centres). Each rank reads only its own row range, with
 * positioned reads straight into the caller's Float32Array: no copy, memory bounded by the batch.
 */
import { closeSync } from 'node:fs';
import { DataFormatError, DataShortError, UsageError } from '../errors.js';
import type { PointSource } from '../source.js';
import { LITTLE_ENDIAN_HOST, checkFinite, openForReading, rankRows, readExactly, swap32, type FileReaderOptions } from './file.js';

export class RawFloat32Reader implements PointSource {
  readonly description: string;
  readonly dim: number;
  readonly count: number;
  readonly iid = false;
  readonly file: string;
  /** rows in the whole file */
  readonly totalRows: number;
  /** the file row of this partition's row 0 */
  readonly firstRow: number;
  private fd: number;

  constructor(file: string, dim: number, options: FileReaderOptions = {}) {
    if (!Number.isInteger(dim) || dim < 1) throw new UsageError(`--raw needs --dim, a positive integer (got ${dim})`);
    this.file = file;
    this.dim = dim;
    const { fd, size } = openForReading(file);
    this.fd = fd;
    try {
      const rowBytes = 4 * dim;
      if (size % rowBytes !== 0) {
        const whole = Math.floor(size / rowBytes);
        throw new DataFormatError(
          { file, byteOffset: whole * rowBytes },
          `${size} bytes is not a whole number of rows of ${dim} float32 values (${rowBytes} bytes): ` +
          `${whole} rows and ${size % rowBytes} bytes left over. Is --dim ${dim} right?`,
        );
      }
      this.totalRows = size / rowBytes;
      if (this.totalRows === 0) throw new DataShortError({ file, byteOffset: 0 }, 'the file is empty');
      const [from, to] = rankRows(file, this.totalRows, options, 'rows');
      this.firstRow = from;
      this.count = to - from;
      this.description = `raw float32 ${file}: ${this.totalRows} rows of ${dim}; this rank reads rows ` +
        `[${this.firstRow}, ${this.firstRow + this.count})`;
    } catch (error) {
      closeSync(fd);
      throw error;
    }
  }

  read(from: number, to: number, out: Float32Array, outOffset = 0): void {
    if (from < 0 || to > this.count || from > to) throw new RangeError(`rows [${from}, ${to}) outside this partition of ${this.count}`);
    const rows = to - from;
    if (rows === 0) return;
    const bytes = new Uint8Array(out.buffer, out.byteOffset + outOffset * 4, rows * this.dim * 4);
    const row = this.firstRow + from;
    readExactly(this.file, this.fd, bytes, bytes.length, row * this.dim * 4);
    if (!LITTLE_ENDIAN_HOST) swap32(bytes);
    checkFinite(this.file, out, outOffset, rows, this.dim, row, 0, this.dim * 4);
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}
