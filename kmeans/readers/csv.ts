/**
 * CSV files of numeric columns, header optional (detected when not said: a first line with any
 * non-numeric field is a header). Each rank takes an equal byte range of the data region and owns the
 * rows that *start* in it, so ranks split a file without reading each other's parts.
 *
 * Opening a reader scans its range once, in bounded chunks: it checks every row (field count, numeric
 * and finite values, naming line and byte offset when one is wrong) and remembers the byte offset of
 * every 64th row. Reading rows [from, to) later seeks to the nearest remembered row and parses
 * forward. When the partition's values fit in `cacheBytes` they are kept from the scan instead.
 */
import { closeSync } from 'node:fs';
import { DataFormatError, DataShortError, UsageError, type FileLocation } from '../errors.js';
import type { PointSource } from '../source.js';
import { parseDecimal } from './csv-number.js';
import { openForReading, readAt, type FileReaderOptions } from './file.js';

export interface CsvOptions extends FileReaderOptions {
  /** the first line is a header (true), is data (false), or is looked at to decide (undefined) */
  header?: boolean;
  /** one ASCII character (default ',') */
  delimiter?: string;
  /** bytes read at a time (default 1 MiB); a line longer than this grows the buffer up to 16 MiB */
  chunkBytes?: number;
  /** keep the partition's parsed values when they take at most this many bytes (default 64 MiB) */
  cacheBytes?: number;
}

const NEWLINE = 10;
const CR = 13;
const SPACE = 32;
const TAB = 9;
const QUOTE = 34;
const INDEX_STRIDE = 64;
const MAX_LINE_BYTES = 16 << 20;
/** lines are counted (for error messages) only when the error is within this many bytes of the start */
const LINE_COUNT_LIMIT = 256 << 20;

/** Reads a file line by line through one reusable buffer, by positioned reads. */
class LineCursor {
  buf: Uint8Array;
  /** file offset of buf[0] */
  bufPos = 0;
  bufLen = 0;
  /** the current line: [lineStart, lineEnd) in file offsets, without '\n' or a trailing '\r' */
  lineStart = 0;
  lineEnd = 0;
  /** file offset where the next line starts */
  pos = 0;

  constructor(private readonly file: string, private readonly fd: number, private readonly size: number, chunkBytes: number) {
    this.buf = new Uint8Array(Math.max(16, Math.min(chunkBytes, Math.max(size, 16))));
  }

  seek(pos: number): void {
    this.pos = pos;
  }

  /** Advance to the next line; false at the end of the file. */
  next(): boolean {
    if (this.pos >= this.size) return false;
    let rel = this.pos - this.bufPos;
    if (rel < 0 || rel >= this.bufLen) {
      this.fill(this.pos);
      rel = 0;
    }
    for (;;) {
      const nl = this.buf.indexOf(NEWLINE, rel);
      if (nl >= 0 && nl < this.bufLen) {
        this.setLine(this.pos, this.bufPos + nl);
        this.pos = this.bufPos + nl + 1;
        return true;
      }
      if (this.bufPos + this.bufLen >= this.size) {
        this.setLine(this.pos, this.size);
        this.pos = this.size;
        return true;
      }
      if (rel === 0 && this.bufLen === this.buf.length) {
        if (this.buf.length >= MAX_LINE_BYTES) {
          throw new DataFormatError({ file: this.file, byteOffset: this.pos }, `a line longer than ${MAX_LINE_BYTES} bytes: is this a CSV file?`);
        }
        this.buf = new Uint8Array(Math.min(this.buf.length * 2, MAX_LINE_BYTES));
      }
      this.fill(this.pos);
      rel = 0;
    }
  }

  /** index into buf of a file offset inside the current line */
  rel(offset: number): number {
    return offset - this.bufPos;
  }

  /** true when the current line holds nothing but spaces, tabs and '\r' */
  blank(): boolean {
    const b = this.buf;
    for (let i = this.lineStart - this.bufPos, end = this.lineEnd - this.bufPos; i < end; i++) {
      const c = b[i]!;
      if (c !== SPACE && c !== TAB) return false;
    }
    return true;
  }

  private setLine(start: number, end: number): void {
    this.lineStart = start;
    this.lineEnd = end > start && this.buf[end - 1 - this.bufPos] === CR ? end - 1 : end;
  }

  private fill(pos: number): void {
    this.bufPos = pos;
    this.bufLen = readAt(this.file, this.fd, this.buf, Math.min(this.buf.length, this.size - pos), pos);
  }
}

export class CsvReader implements PointSource {
  readonly description: string;
  readonly dim: number;
  readonly count: number;
  readonly iid = false;
  readonly file: string;
  readonly hasHeader: boolean;
  /** this rank's byte range of the file: it owns the rows starting in [rangeStart, rangeEnd) */
  readonly rangeStart: number;
  readonly rangeEnd: number;
  private fd: number;
  private readonly cursor: LineCursor;
  private readonly delimiter: number;
  /** byte offset of row i·INDEX_STRIDE of the partition */
  private index: Float64Array;
  private cache: Float32Array | undefined;

  constructor(file: string, options: CsvOptions = {}) {
    this.file = file;
    const delimiter = options.delimiter ?? ',';
    if (delimiter.length !== 1 || delimiter.charCodeAt(0) > 127 || /[0-9.eE+\-" \r\n]/.test(delimiter)) {
      throw new UsageError(`CSV delimiter must be one ASCII character that cannot be part of a number, got '${delimiter}'`);
    }
    this.delimiter = delimiter.charCodeAt(0);
    const { fd, size } = openForReading(file);
    this.fd = fd;
    try {
      if (size === 0) throw new DataShortError({ file, byteOffset: 0 }, 'the file is empty');
      this.cursor = new LineCursor(file, fd, size, options.chunkBytes ?? 1 << 20);
      // The first line decides the header and the column count, the same on every rank.
      const c = this.cursor;
      c.seek(0);
      c.next();
      const first = this.inspectFirstLine();
      if (options.header === false && !first.numeric) {
        this.fail(0, first.badField, `field '${first.badText}' is not a number (the file was said to have no header)`);
      }
      this.hasHeader = options.header ?? !first.numeric;
      this.dim = first.fields;
      const dataStart = this.hasHeader ? c.pos : 0;
      if (dataStart >= size) throw new DataShortError({ file, byteOffset: size }, 'the file has a header but no data rows');

      const rank = options.rank ?? 0;
      const ranks = options.ranks ?? 1;
      const span = size - dataStart;
      const base = Math.floor(span / ranks);
      const extra = span - base * ranks;
      this.rangeStart = dataStart + rank * base + Math.min(rank, extra);
      this.rangeEnd = this.rangeStart + base + (rank < extra ? 1 : 0);

      this.index = new Float64Array(64);
      const cacheBytes = options.cacheBytes ?? 64 << 20;
      this.count = this.scan(cacheBytes);
      const min = options.minRowsPerRank ?? 1;
      if (this.count < min) {
        throw new DataShortError(
          { file, byteOffset: this.rangeStart },
          `rank ${rank} of ${ranks} owns the rows starting in bytes [${this.rangeStart}, ${this.rangeEnd}) and found ${this.count}, ` +
          `fewer than the ${min} it needs: the file is too short for ${ranks} ranks`,
        );
      }
      this.description = `csv ${file}: ${this.dim} columns${this.hasHeader ? ', header' : ''}; this rank reads the ${this.count} rows ` +
        `starting in bytes [${this.rangeStart}, ${this.rangeEnd})`;
    } catch (error) {
      closeSync(fd);
      throw error;
    }
  }

  read(from: number, to: number, out: Float32Array, outOffset = 0): void {
    if (from < 0 || to > this.count || from > to) throw new RangeError(`rows [${from}, ${to}) outside this partition of ${this.count}`);
    const dim = this.dim;
    if (from === to) return;
    if (this.cache) {
      out.set(this.cache.subarray(from * dim, to * dim), outOffset);
      return;
    }
    const block = Math.floor(from / INDEX_STRIDE);
    const c = this.cursor;
    c.seek(this.index[block]!);
    let row = block * INDEX_STRIDE;
    while (row < to && c.next()) {
      if (c.blank()) continue;
      if (row >= from) this.parseRow(out, outOffset + (row - from) * dim);
      row++;
    }
    if (row < to) {
      throw new DataShortError({ file: this.file, byteOffset: c.lineEnd }, `the file ended at row ${row} of this rank's ${this.count}: did it change while being read?`);
    }
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  /** One pass over the range: validate every row, index every INDEX_STRIDE-th, cache values if small. */
  private scan(cacheBytes: number): number {
    const c = this.cursor;
    const dim = this.dim;
    let start = this.rangeStart;
    if (start > 0) {
      // Unless the range starts right after a newline, its first bytes finish the previous rank's row.
      const before = new Uint8Array(1);
      readAt(this.file, this.fd, before, 1, start - 1);
      if (before[0] !== NEWLINE) {
        c.seek(start);
        c.next();
        start = c.pos;
      }
    }
    let values: Float32Array | undefined = new Float32Array(Math.max(dim, Math.min(cacheBytes >>> 2, 1 << 16)));
    const scratch = new Float32Array(dim);
    let rows = 0;
    c.seek(start);
    while (c.next() && c.lineStart < this.rangeEnd) {
      if (c.blank()) continue;
      if (rows % INDEX_STRIDE === 0) {
        const slot = rows / INDEX_STRIDE;
        if (slot >= this.index.length) {
          const grown = new Float64Array(this.index.length * 2);
          grown.set(this.index);
          this.index = grown;
        }
        this.index[slot] = c.lineStart;
      }
      if (values !== undefined && (rows + 1) * dim > values.length) {
        if ((rows + 1) * dim * 4 > cacheBytes) {
          values = undefined; // too big to keep: reads will parse from the file
        } else {
          const grown: Float32Array = new Float32Array(Math.min(values.length * 2, cacheBytes >>> 2));
          grown.set(values);
          values = grown;
        }
      }
      if (values !== undefined) this.parseRow(values, rows * dim);
      else this.parseRow(scratch, 0);
      rows++;
    }
    this.cache = values?.subarray(0, rows * dim);
    return rows;
  }

  /** Parse the cursor's line as `dim` numbers into out[o..o+dim), or throw naming line and byte. */
  private parseRow(out: Float32Array, o: number): void {
    const c = this.cursor;
    const b = c.buf;
    const end = c.rel(c.lineEnd);
    const delimiter = this.delimiter;
    const dim = this.dim;
    let field = 0;
    let i = c.rel(c.lineStart);
    for (;;) {
      let fieldEnd = i;
      while (fieldEnd < end && b[fieldEnd] !== delimiter) fieldEnd++;
      if (field >= dim) this.fail(c.lineStart, c.bufPos + i, `more than ${dim} fields (the ${this.hasHeader ? 'header' : 'first line'} has ${dim})`);
      let s = i;
      let e = fieldEnd;
      while (s < e && (b[s] === SPACE || b[s] === TAB)) s++;
      while (e > s && (b[e - 1] === SPACE || b[e - 1] === TAB)) e--;
      if (e - s >= 2 && b[s] === QUOTE && b[e - 1] === QUOTE) {
        s++;
        e--;
      }
      if (s === e) this.fail(c.lineStart, c.bufPos + i, `column ${field + 1} is empty (a missing value)`);
      const v = parseDecimal(b, s, e);
      if (v !== v) this.fail(c.lineStart, c.bufPos + s, `column ${field + 1}: '${text(b, s, e)}' is not a number`);
      const f = Math.fround(v);
      if (f - f !== 0) this.fail(c.lineStart, c.bufPos + s, `column ${field + 1}: ${text(b, s, e)} is not a finite float32 value`);
      out[o + field] = f;
      field++;
      if (fieldEnd >= end) break;
      i = fieldEnd + 1;
    }
    if (field < dim) this.fail(c.lineStart, c.lineEnd, `${field} field${field === 1 ? '' : 's'}, expected ${dim} (missing values)`);
  }

  private inspectFirstLine(): { fields: number; numeric: boolean; badField: number; badText: string } {
    const c = this.cursor;
    const b = c.buf;
    const end = c.rel(c.lineEnd);
    let fields = 0;
    let numeric = true;
    let badField = 0;
    let badText = '';
    let i = c.rel(c.lineStart);
    for (;;) {
      let fieldEnd = i;
      while (fieldEnd < end && b[fieldEnd] !== this.delimiter) fieldEnd++;
      const raw = text(b, i, fieldEnd).trim().replace(/^"(.*)"$/, '$1');
      const v = raw === '' ? NaN : parseDecimal(new TextEncoder().encode(raw), 0, raw.length);
      if (numeric && !Number.isFinite(v)) {
        numeric = false;
        badField = c.bufPos + i;
        badText = raw;
      }
      fields++;
      if (fieldEnd >= end) break;
      i = fieldEnd + 1;
    }
    return { fields, numeric, badField, badText };
  }

  /** Throw a DataFormatError at file offset `byte` of the line starting at file offset `lineStart`. */
  private fail(lineStart: number, byte: number, message: string): never {
    const loc: FileLocation = { file: this.file, byteOffset: byte };
    const line = this.lineNumber(lineStart);
    if (line !== undefined) loc.line = line;
    throw new DataFormatError(loc, message);
  }

  /** The 1-based line number of the line starting at `offset`, by counting newlines before it (bounded). */
  private lineNumber(offset: number): number | undefined {
    if (offset > LINE_COUNT_LIMIT) return undefined;
    const buf = new Uint8Array(Math.min(offset, 1 << 20) || 1);
    let lines = 1;
    for (let pos = 0; pos < offset; pos += buf.length) {
      const n = readAt(this.file, this.fd, buf, Math.min(buf.length, offset - pos), pos);
      for (let i = 0; i < n; i++) if (buf[i] === NEWLINE) lines++;
      if (n === 0) break;
    }
    return lines;
  }
}

function text(b: Uint8Array, s: number, e: number): string {
  const t = new TextDecoder('latin1').decode(b.subarray(s, Math.min(e, s + 40)));
  return e - s > 40 ? `${t}…` : t;
}
