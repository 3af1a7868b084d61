/**
 * Readers against files the test writes: exact round trips (whole file, per-rank partitions, random
 * sub-ranges, small chunks that split lines), and every bad-input case with the location it names.
 */
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { CsvReader, NpyReader, RawFloat32Reader, parseDecimal, type CsvOptions } from '../kmeans/readers/index.js';
import type { PointSource } from '../kmeans/source.js';
import { DataFormatError, DataIoError, DataShortError, UsageError } from '../kmeans/errors.js';
import { csvText, tempDir, testValues, writeNpy, writeRaw } from './fixtures/kmeans-files.js';

const tmp = tempDir();
test.after.always(() => tmp.remove());

function readAll(source: PointSource): Float32Array {
  const out = new Float32Array(source.count * source.dim);
  source.read(0, source.count, out);
  return out;
}

/** Every partition of `ranks`, concatenated, must be the whole data; and sub-range reads agree. */
function checkPartitions(t: { deepEqual: (a: unknown, b: unknown, m?: string) => void; is: (a: unknown, b: unknown, m?: string) => void }, open: (rank: number, ranks: number) => PointSource, whole: Float32Array, dim: number): void {
  for (const ranks of [1, 2, 3, 7]) {
    const parts: number[] = [];
    for (let rank = 0; rank < ranks; rank++) {
      const source = open(rank, ranks);
      t.is(source.dim, dim);
      const all = readAll(source);
      parts.push(...all);
      // Sub-ranges at awkward places, into an offset in a bigger buffer.
      for (const [from, to] of [[0, 1], [1, Math.min(70, source.count)], [Math.floor(source.count / 2), source.count], [source.count, source.count]] as const) {
        if (from > to) continue;
        const out = new Float32Array((to - from + 2) * dim);
        source.read(from, to, out, dim);
        t.deepEqual(out.subarray(dim, dim + (to - from) * dim), all.subarray(from * dim, to * dim), `rank ${rank}/${ranks} rows [${from}, ${to})`);
      }
      source.close();
    }
    t.deepEqual(Float32Array.from(parts), whole, `${ranks} ranks`);
  }
}

const ROWS = 300;
const DIM = 7;
const values = testValues(ROWS * DIM);

test('raw float32: round trip whole and partitioned', (t) => {
  const file = tmp.path('data.f32');
  writeRaw(file, values);
  checkPartitions(t, (rank, ranks) => new RawFloat32Reader(file, DIM, { rank, ranks }), values, DIM);
});

test('raw float32: bad input names the file and the byte offset', (t) => {
  const file = tmp.path('bad.f32');
  writeRaw(file, values);
  // 300·7·4 = 8400 bytes; at dim 6 (24-byte rows): 350 rows exactly. At dim 8: 262 rows and 16 bytes.
  const wrong = t.throws(() => new RawFloat32Reader(file, 8), { instanceOf: DataFormatError })!;
  t.regex(wrong.message, /bad\.f32 \(byte offset 8384\): 8400 bytes is not a whole number of rows of 8 float32 values .*262 rows and 16 bytes left over.*--dim 8/);
  t.is(wrong.byteOffset, 8384);
  t.throws(() => new RawFloat32Reader(file, 0), { instanceOf: UsageError, message: /--dim/ });
  const short = tmp.path('short.f32');
  writeRaw(short, values.subarray(0, 3 * DIM));
  t.throws(() => new RawFloat32Reader(short, DIM, { rank: 3, ranks: 4 }), { instanceOf: DataShortError, message: /short\.f32: the file holds 3 rows, too few for 4 ranks/ });
  const empty = tmp.path('empty.f32');
  writeFileSync(empty, '');
  t.throws(() => new RawFloat32Reader(empty, DIM), { instanceOf: DataShortError, message: /empty/ });
  t.throws(() => new RawFloat32Reader(tmp.path('missing.f32'), DIM), { instanceOf: DataIoError, message: /missing\.f32: .*ENOENT/ });
  const nan = tmp.path('nan.f32');
  const copy = values.slice();
  copy[5 * DIM + 2] = NaN;
  writeRaw(nan, copy);
  const reader = new RawFloat32Reader(nan, DIM);
  const e = t.throws(() => readAll(reader), { instanceOf: DataFormatError })!;
  t.is(e.row, 5);
  t.is(e.byteOffset, (5 * DIM + 2) * 4);
  t.regex(e.message, /column 2 is not a finite number/);
  reader.close();
});

test('npy: float32 and float64, versions 1 and 2, partitioned', (t) => {
  const f4 = tmp.path('data-f4.npy');
  writeNpy(f4, values, ROWS, DIM);
  checkPartitions(t, (rank, ranks) => new NpyReader(f4, { rank, ranks }), values, DIM);
  const f8 = tmp.path('data-f8.npy');
  const doubles = Float64Array.from(values, (v) => v + 1e-12 * v); // not float32-exact: must round like Math.fround
  writeNpy(f8, doubles, ROWS, DIM, { version: 2 });
  checkPartitions(t, (rank, ranks) => new NpyReader(f8, { rank, ranks }), Float32Array.from(doubles), DIM);
  const reader = new NpyReader(f8);
  t.deepEqual(reader.header, { dtype: 'f8', rows: ROWS, dim: DIM, dataStart: 128 });
  reader.close();
  const flat = tmp.path('flat.npy');
  writeNpy(flat, values.subarray(0, 50), 50, 1, { shape: '(50,)' });
  const one = new NpyReader(flat);
  t.is(one.dim, 1);
  t.deepEqual(readAll(one), values.subarray(0, 50));
  one.close();
});

test('npy: unsupported dtype, order, shape, truncation and --dim mismatch are clear errors', (t) => {
  const cases: [string, Parameters<typeof writeNpy>[4], RegExp, typeof DataFormatError | typeof DataShortError][] = [
    ['i4.npy', { descr: '<i4' }, /unsupported dtype '<i4'.*astype\('<f4'\)/, DataFormatError],
    ['be.npy', { descr: '>f4' }, /unsupported dtype '>f4'/, DataFormatError],
    ['fortran.npy', { fortran: true }, /Fortran \(column-major\) order is not supported/, DataFormatError],
    ['struct.npy', { headerText: "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (300,), }" }, /structured array/, DataFormatError],
    ['3d.npy', { shape: '(10, 30, 7)' }, /not a 2-D array/, DataFormatError],
    ['truncated.npy', { truncateData: 1000 }, /shape \(300, 7\) of <f4 needs 8528 bytes, but the file ends at byte 1128/, DataShortError],
  ];
  for (const [name, options, message, type] of cases) {
    const file = tmp.path(name);
    writeNpy(file, values, ROWS, DIM, options);
    const e = t.throws(() => new NpyReader(file), { instanceOf: type, message }, name)!;
    t.true(e.message.startsWith(file), e.message);
  }
  const notNpy = tmp.path('not.npy');
  writeFileSync(notNpy, 'hello, world');
  t.throws(() => new NpyReader(notNpy), { instanceOf: DataFormatError, message: /not\.npy \(byte offset 0\): not a NumPy \.npy file/ });
  const ok = tmp.path('ok.npy');
  writeNpy(ok, values, ROWS, DIM);
  t.throws(() => new NpyReader(ok, { dim: 5 }), { instanceOf: UsageError, message: /--dim 5 does not match .*7 columns/ });
  t.throws(() => new NpyReader(ok, { rank: 300, ranks: 301 }), { instanceOf: DataShortError, message: /300 rows, too few for 301 ranks/ });
});

test('parseDecimal agrees with Number() and rejects what is not a plain decimal', (t) => {
  const enc = new TextEncoder();
  const parse = (s: string): number => parseDecimal(enc.encode(s), 0, s.length);
  const samples = ['0', '-0', '1', '+1', '0.1', '.5', '5.', '-3.25e-3', '1E5', '1e+22', '1e23', '123456789012345678', '0.000000000000000000012345',
    '9007199254740993', '1.7976931348623157e308', '2.2250738585072014e-308', '4.9e-324', '0.30000000000000004', '00012.500'];
  for (let i = 0; i < 2000; i++) {
    const v = (Math.sin(i * 12.9898) * 43758.5453) % 1 * 10 ** ((i % 40) - 20);
    samples.push(String(v), String(Math.fround(v)), v.toExponential(i % 17), v.toFixed(i % 12));
  }
  for (const s of samples) t.is(parse(s), Number(s), s);
  for (const bad of ['', '.', '-', '+', 'e5', '1e', '1e+', '1.2.3', '0x10', 'Infinity', 'NaN', ' 1', '1 ', '1,5', '--1', '1e5.5']) {
    t.true(Number.isNaN(parse(bad)), `'${bad}'`);
  }
});

function csvReader(file: string, options: CsvOptions = {}): CsvReader {
  return new CsvReader(file, options);
}

test('csv: round trip with and without header, CRLF, blank lines, quotes, tiny chunks, no cache', (t) => {
  const plain = tmp.path('plain.csv');
  writeFileSync(plain, csvText(values, DIM));
  const r = csvReader(plain);
  t.false(r.hasHeader);
  t.deepEqual(readAll(r), values);
  r.close();
  const headed = tmp.path('headed.csv');
  writeFileSync(headed, csvText(values, DIM, { header: true, eol: '\r\n' }));
  for (const options of [{}, { chunkBytes: 16, cacheBytes: 0 }, { cacheBytes: 0 }] as CsvOptions[]) {
    checkPartitions(t, (rank, ranks) => csvReader(headed, { ...options, rank, ranks }), values, DIM);
  }
  const h = csvReader(headed, { header: true });
  t.true(h.hasHeader);
  h.close();
  // Spaces, quotes, blank lines and a last line without a newline.
  const messy = tmp.path('messy.csv');
  writeFileSync(messy, 'a, b ,"c"\n\n 1, "2.5" ,3\n   \n4,5,-6e-1\r\n7,8,9');
  const m = csvReader(messy, { chunkBytes: 16, cacheBytes: 0 });
  t.is(m.count, 3);
  t.deepEqual([...readAll(m)], [1, 2.5, 3, 4, 5, -0.6000000238418579, 7, 8, 9]);
  m.close();
  const semi = tmp.path('semi.csv');
  writeFileSync(semi, '1;2\n3;4\n');
  const s = csvReader(semi, { delimiter: ';' });
  t.deepEqual([...readAll(s)], [1, 2, 3, 4]);
  s.close();
});

test('csv: bad rows name the file, the line and the byte offset', (t) => {
  const cases: [string, string, CsvOptions, RegExp, number, number][] = [
    // name, content, options, message, line, byte offset
    ['missing.csv', 'x,y,z\n1,2,3\n4,,6\n', {}, /column 2 is empty \(a missing value\)/, 3, 14],
    ['word.csv', '1,2,3\n4,5,6\n7,abc,9\n', {}, /column 2: 'abc' is not a number/, 3, 14],
    ['few.csv', '1,2,3\n4,5\n', {}, /2 fields, expected 3/, 2, 9],
    ['many.csv', '1,2,3\n4,5,6,7\n', {}, /more than 3 fields/, 2, 12],
    ['inf.csv', '1,2,3\n4,1e39,6\n', {}, /1e39 is not a finite float32 value/, 2, 8],
    ['said-no-header.csv', 'x,y,z\n1,2,3\n', { header: false }, /field 'x' is not a number \(the file was said to have no header\)/, 1, 0],
  ];
  for (const [name, content, options, message, line, byteOffset] of cases) {
    const file = tmp.path(name);
    writeFileSync(file, content);
    for (const opts of [options, { ...options, chunkBytes: 16, cacheBytes: 0 }]) {
      const e = t.throws(() => csvReader(file, opts), { instanceOf: DataFormatError, message }, name)!;
      t.is(e.line, line, name);
      t.is(e.byteOffset, byteOffset, name);
      t.true(e.message.startsWith(`${file} (line ${line}, byte offset ${byteOffset}): `), e.message);
    }
  }
  const headerOnly = tmp.path('header-only.csv');
  writeFileSync(headerOnly, 'x,y,z\n');
  t.throws(() => csvReader(headerOnly), { instanceOf: DataShortError, message: /header but no data rows/ });
  const empty = tmp.path('empty.csv');
  writeFileSync(empty, '');
  t.throws(() => csvReader(empty), { instanceOf: DataShortError, message: /empty/ });
  // Two rows cannot feed five ranks: the ranks that get no row say so.
  const small = tmp.path('small.csv');
  writeFileSync(small, '1,2\n3,4\n');
  const failures = [0, 1, 2, 3, 4].filter((rank) => {
    try {
      csvReader(small, { rank, ranks: 5 }).close();
      return false;
    } catch (error) {
      t.true(error instanceof DataShortError);
      t.regex((error as Error).message, /too short for 5 ranks/);
      return true;
    }
  });
  t.is(failures.length, 3);
  t.throws(() => csvReader(small, { delimiter: '.' }), { instanceOf: UsageError });
});
