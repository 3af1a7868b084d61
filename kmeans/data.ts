/**
 * A data set as the CLI describes it (JSON-able, so it can cross to worker threads and into a run
 * summary), and what each rank builds from it: its partition as a PointSource, and the samples every
 * rank must hold identically (the k-means++ sample, the held-out evaluation sample).
 */
import { UsageError } from './errors.js';
import { CsvReader, NpyReader, RawFloat32Reader } from './readers/index.js';
import { Rng, RngStream } from './rng.js';
import { SyntheticSource, type PointSource } from './source.js';
import { STREAM_HELDOUT, SyntheticData, partitionRange, type SyntheticSpec } from './synthetic.js';

export type DataSpec =
  | ({ kind: 'synthetic' } & Required<Omit<SyntheticSpec, 'weights' | 'minSeparation'>> & { weights?: number[] })
  | { kind: 'raw'; file: string; dim: number }
  | { kind: 'csv'; file: string; header?: boolean; delimiter?: string }
  | { kind: 'npy'; file: string; dim?: number };

const syntheticCache = new Map<string, SyntheticData>();

/** The synthetic data set of a spec (memoised: building the centres is the only cost). */
export function syntheticOf(spec: DataSpec & { kind: 'synthetic' }): SyntheticData {
  const key = JSON.stringify(spec);
  let data = syntheticCache.get(key);
  if (!data) {
    const { kind: _kind, ...rest } = spec;
    data = new SyntheticData(rest);
    syntheticCache.set(key, data);
  }
  return data;
}

/** This rank's partition of the data. `minRows`: every rank needs at least this many points. */
export function openSource(spec: DataSpec, rank: number, ranks: number, minRows = 1): PointSource {
  const options = { rank, ranks, minRowsPerRank: minRows };
  switch (spec.kind) {
    case 'synthetic': {
      const data = syntheticOf(spec);
      const [from, to] = partitionRange(data.points, rank, ranks);
      if (to - from < minRows) {
        throw new UsageError(`--size: ${data.points} points give rank ${rank} of ${ranks} only ${to - from}, fewer than the ${minRows} it needs`);
      }
      return new SyntheticSource(data, rank, ranks);
    }
    case 'raw':
      return new RawFloat32Reader(spec.file, spec.dim, options);
    case 'csv':
      return new CsvReader(spec.file, {
        ...options,
        ...(spec.header !== undefined ? { header: spec.header } : {}),
        ...(spec.delimiter !== undefined ? { delimiter: spec.delimiter } : {}),
      });
    case 'npy':
      return new NpyReader(spec.file, { ...options, ...(spec.dim !== undefined ? { dim: spec.dim } : {}) });
  }
}

/**
 * `m` rows drawn from this rank's partition by (seed, stream, rank), in the partition's order, into
 * out[offset..]. Ranks that each draw their share and combine them (allreduce of disjoint slots) get a
 * sample of the whole data without any rank reading another's part of the file.
 */
export function drawFromPartition(source: PointSource, m: number, seed: number, stream: number, rank: number, out: Float32Array, offset: number): void {
  const d = source.dim;
  const rng = new Rng(seed, stream, rank);
  // Sorted distinct indices (Floyd's algorithm when m is small against the partition, else every row).
  const rows = sampleIndices(source.count, m, rng);
  // Rows close together are read with one call (a window of up to 256 rows): a dense sample of a CSV
  // file then parses each line once instead of seeking for every row.
  const WINDOW = 256;
  const window = new Float32Array(WINDOW * d);
  for (let i = 0; i < rows.length;) {
    const first = rows[i]!;
    let last = i;
    while (last + 1 < rows.length && rows[last + 1]! < first + WINDOW) last++;
    const to = rows[last]! + 1;
    source.read(first, to, window, 0);
    for (; i <= last; i++) out.set(window.subarray((rows[i]! - first) * d, (rows[i]! - first + 1) * d), offset + i * d);
  }
}

/** min(m, n) distinct indices of [0, n), ascending (Floyd's sampling; a set of at most m entries). */
export function sampleIndices(n: number, m: number, rng: Rng): Float64Array {
  if (m >= n) return Float64Array.from({ length: n }, (_, i) => i);
  const chosen = new Set<number>();
  for (let j = n - m; j < n; j++) {
    const t = rng.nextInt(j + 1);
    chosen.add(chosen.has(t) ? j : t);
  }
  return Float64Array.from(chosen).sort();
}

/** The held-out sample of synthetic data (its own random stream: these points are never trained on). */
export function syntheticHeldOut(spec: DataSpec & { kind: 'synthetic' }, n: number): Float32Array {
  const data = syntheticOf(spec);
  const out = new Float32Array(n * data.dim);
  data.fill(0, n, out, 0, undefined, 0, STREAM_HELDOUT);
  return out;
}

/**
 * The k-means++ sample of synthetic data: m points at seeded indices of the whole data set (any rank
 * can generate any index, so every rank computes the same sample without communication).
 */
export function syntheticInitSample(spec: DataSpec & { kind: 'synthetic' }, m: number, seed: number): Float32Array {
  const data = syntheticOf(spec);
  const rows = sampleIndices(data.points, m, new Rng(seed, RngStream.InitSample));
  const out = new Float32Array(rows.length * data.dim);
  for (let i = 0; i < rows.length; i++) data.fill(rows[i]!, rows[i]! + 1, out, i * data.dim);
  return out;
}

export { RngStream };
