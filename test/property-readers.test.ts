/**
 * The data readers against generated files: IDX (cnn/data/idx.ts), NumPy .npy and CSV (kmeans/readers):
 * random bytes, valid files with byte-level mutations (lying headers and dimension sizes among them),
 * and random text. A reader returns data or throws its typed error (CnnError / KmeansError), never
 * another exception (a RangeError from a huge allocation counts as a crash), and never hangs.
 */
import test from 'ava';
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CnnError } from '../cnn/errors.js';
import { encodeIdx, parseIdx } from '../cnn/data/idx.js';
import { KmeansError } from '../kmeans/errors.js';
import { CsvReader, NpyReader } from '../kmeans/readers/index.js';
import type { PointSource } from '../kmeans/source.js';
import { checkParser, mutatedBytes, mutatedText } from './fixtures/property-lib.js';

// tmpfs when there is one: hundreds of thousands of small files are written (one path, rewritten)
const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'pgas-sec-prop-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

/** Read every row (at most 4096 values at a time) so that the whole file is parsed. */
function drain(source: PointSource): void {
  try {
    const rows = Math.max(1, Math.floor(4096 / Math.max(1, source.dim)));
    const out = new Float32Array(rows * source.dim);
    for (let from = 0; from < source.count; from += rows) source.read(from, Math.min(source.count, from + rows), out, 0);
  } finally {
    source.close();
  }
}

// ---- IDX ---------------------------------------------------------------------------------------
const idxValid = fc.record({ dims: fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 4 }), type: fc.constantFrom(0x08 as const, 0x0d as const) })
  .map(({ dims, type }) => {
    const n = dims.reduce((a, b) => a * b, 1);
    return new Uint8Array(encodeIdx(dims, Array.from({ length: n }, (_, i) => i % 251), type));
  });
const idxTyped = (e: unknown): boolean => e instanceof CnnError;

test('IDX: arbitrary bytes and mutated valid files', (t) => {
  checkParser(t, 'idx/random', fc.uint8Array({ maxLength: 200 }), (b) => parseIdx(b, 'x.idx'), idxTyped);
  const tally = checkParser(t, 'idx/mutated', mutatedBytes(idxValid), (b) => parseIdx(b, 'x.idx'), idxTyped);
  t.true(tally.accepted > 0 && tally.typed > 0);
});

// ---- npy ---------------------------------------------------------------------------------------
const npyHeaderText = fc.record({
  descr: fc.constantFrom("'<f4'", "'<f8'", "'>f4'", "'|u1'", "'<i4'", "[('a','<f4')]", "'<f4", "''"),
  order: fc.constantFrom('False', 'True', 'None', '0'),
  shape: fc.constantFrom('(3, 2)', '(4,)', '(0, 2)', '()', '(2, 0)', '(1000000000, 1000000000)', '(-1, 2)', '(2, 2, 2)', '(9007199254740993, 1)', '(3,2', 'x'),
}).map((h) => `{'descr': ${h.descr}, 'fortran_order': ${h.order}, 'shape': ${h.shape}, }`);
function npyBytes(header: string, version: number, data: Uint8Array): Uint8Array {
  const prefix = version === 1 ? 10 : 12;
  let text = header;
  while ((prefix + text.length + 1) % 64 !== 0) text += ' ';
  text += '\n';
  const out = Buffer.alloc(prefix + text.length + data.length);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]).copy(out, 0);
  if (version === 1) out.writeUInt16LE(text.length, 8);
  else out.writeUInt32LE(text.length, 8);
  out.write(text, prefix, 'latin1');
  out.set(data, prefix + text.length);
  return new Uint8Array(out);
}
const npyValid = fc.tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 4 }), fc.constantFrom(4, 8), fc.constantFrom(1, 2, 3))
  .chain(([rows, d, width, version]) => fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { minLength: rows * Math.max(d, 1), maxLength: rows * Math.max(d, 1) })
    .map((values) => {
      const data = Buffer.alloc(values.length * width);
      values.forEach((v, i) => (width === 4 ? data.writeFloatLE(v, 4 * i) : data.writeDoubleLE(v, 8 * i)));
      const shape = d === 0 ? `(${rows},)` : `(${rows}, ${d})`;
      return npyBytes(`{'descr': '<f${width}', 'fortran_order': False, 'shape': ${shape}, }`, version, data);
    }));
const npyFile = fc.tuple(npyHeaderText, fc.constantFrom(1, 2, 3, 4), fc.uint8Array({ maxLength: 96 })).map(([h, v, d]) => npyBytes(h, v, d));
const readerTyped = (e: unknown): boolean => e instanceof KmeansError;
const readerOptions = fc.record({ rank: fc.integer({ min: 0, max: 3 }), ranks: fc.integer({ min: 1, max: 4 }) }).map((o) => ({ rank: o.rank % o.ranks, ranks: o.ranks }));

test('npy: generated headers, mutated files, random bytes', (t) => {
  const file = join(dir, 'p.npy');
  const read = ([bytes, options]: [Uint8Array, { rank: number; ranks: number }]): void => {
    writeFileSync(file, bytes);
    drain(new NpyReader(file, options));
  };
  const tally = checkParser(t, 'npy/generated', fc.tuple(fc.oneof(npyValid, npyFile, mutatedBytes(fc.oneof(npyValid, npyFile)), fc.uint8Array({ maxLength: 200 })), readerOptions), read, readerTyped);
  t.true(tally.accepted > 0 && tally.typed > 0);
});

// ---- CSV ---------------------------------------------------------------------------------------
const cell = fc.oneof(
  fc.double({ noNaN: false }).map(String),
  fc.integer().map(String),
  fc.constantFrom('', ' ', 'x', 'nan', 'NaN', 'inf', '-Infinity', '1e309', '-1e-400', '"1.5"', '"', '1.2.3', '--1', '+', 'e5', '0x10', '1_000', ' 7 ', '\t3'),
);
const csvValid = fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 12 }), fc.boolean(), fc.constantFrom('\n', '\r\n'))
  .chain(([cols, rows, header, eol]) => fc.array(fc.array(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }).map(String), { minLength: cols, maxLength: cols }), { minLength: rows, maxLength: rows })
    .map((body) => (header ? `${Array.from({ length: cols }, (_, i) => `c${i}`).join(',')}${eol}` : '') + body.map((r) => r.join(',')).join(eol) + eol));
const csvRandom = fc.array(fc.array(cell, { maxLength: 6 }).map((r) => r.join(',')), { maxLength: 12 }).map((rows) => rows.join('\n'));
const csvAlphabet = fc.constantFrom('0', '1', '9', '.', ',', ';', '-', '+', 'e', 'E', ' ', '\n', '\r', '\t', '"', 'a', 'n', '\u0000', '\u00e9');
const csvOptions = fc.record({
  header: fc.constantFrom(true, false, undefined),
  delimiter: fc.constantFrom(',', ',', ';', '\t', 'x', '1', '', ',,', '\u00e9'),
  chunkBytes: fc.constantFrom(16, 64, 1 << 20),
  cacheBytes: fc.constantFrom(0, 64 << 20),
});

test('CSV: generated, mutated and random text with random options', (t) => {
  const file = join(dir, 'p.csv');
  const read = ([text, options, part]: [string, { header: boolean | undefined; delimiter: string; chunkBytes: number; cacheBytes: number }, { rank: number; ranks: number }]): void => {
    writeFileSync(file, text);
    const { header, ...rest } = options;
    drain(new CsvReader(file, { ...rest, ...(header === undefined ? {} : { header }), ...part, minRowsPerRank: 0 }));
  };
  const tally = checkParser(t, 'csv/generated', fc.tuple(fc.oneof(csvValid, mutatedText(csvValid, csvAlphabet), csvRandom), csvOptions, readerOptions), read, readerTyped);
  t.true(tally.accepted > 0 && tally.typed > 0);
});
