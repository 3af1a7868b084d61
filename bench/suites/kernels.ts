/**
 * `kernels`: the single-core kernels side by side per implementation path — K-Means assignment +
 * update (bench/kmeans.ts), GEMM GFLOP/s of LeNet's shapes and LeNet forward/backward images/s
 * (bench/cnn.ts), TypeScript and native where the native addon is built. The CNN benchmark is loaded
 * defensively: if its module or a path is missing, the suite says so and reports the rest.
 */
import { barChart } from '../plot.js';
import { runKmeansBench } from '../kmeans.js';
import type { SuiteOutput } from '../results.js';
import { cell } from '../series.js';
import type { Suite, SuiteContext } from './types.js';

interface KernelRecord {
  suite: string;
  name: string;
  path: string;
  value: number;
  unit: string;
  note?: string;
  reference?: { value: number; unit: string; what: string };
}

interface CnnModule {
  runCnnBench?: (options: { quick?: boolean; seconds?: number; epochs?: number[]; log?: (line: string) => void }) => Promise<KernelRecord[]>;
}

async function cnnRecords(quick: boolean, log: (line: string) => void, notes: string[]): Promise<KernelRecord[]> {
  let mod: CnnModule;
  try {
    mod = (await import('../cnn.js')) as CnnModule;
  } catch (error) {
    notes.push(`The CNN kernels were not measured: bench/cnn.js could not be loaded (${(error as Error).message.split('\n')[0]}).`);
    return [];
  }
  if (typeof mod.runCnnBench !== 'function') {
    notes.push('The CNN kernels were not measured: bench/cnn.js exports no runCnnBench.');
    return [];
  }
  try {
    return await mod.runCnnBench({ quick: true, seconds: quick ? 0.5 : 2, epochs: [], log });
  } catch (error) {
    notes.push(`The CNN kernels failed: ${(error as Error).message.split('\n')[0]}`);
    return [];
  }
}

async function run(ctx: SuiteContext): Promise<SuiteOutput> {
  const { args, log } = ctx;
  const notes: string[] = [];
  const kmeans = (await runKmeansBench({ quick: args.quick, seconds: args.quick ? 0.4 : 1.5, log })) as KernelRecord[];
  const cnn = await cnnRecords(args.quick, log, notes);
  const all = [...kmeans.map((r) => ({ ...r, name: `K-Means ${r.name} k=${(r as unknown as { k: number }).k} ${(r as unknown as { data: string }).data}` })), ...cnn.map((r) => ({ ...r, name: r.name.startsWith('GEMM') || r.name.startsWith('LeNet') ? r.name : `CNN ${r.name}` }))];
  const paths = [...new Set(all.map((r) => r.path))].sort();
  if (!paths.includes('native')) notes.push('No native path was measured here: the native CNN GEMM (OpenBLAS addon) is not built in this checkout, and K-Means has no native kernel yet; the native columns are empty.');
  else notes.push('K-Means has no native kernel yet: its rows have only the TypeScript figure.');
  const names = [...new Set(all.map((r) => r.name))];
  const columns = ['typescript', 'native'];
  const rows = names.map((name) => {
    const by = (p: string): KernelRecord | undefined => all.find((r) => r.name === name && r.path === p);
    const ts = by('typescript');
    const nat = by('native');
    const unit = (ts ?? nat)!.unit;
    const ref = (ts ?? nat)!.reference;
    return [name, unit, ...columns.map((p) => cell(by(p)?.value ?? NaN)), ts && nat ? `${cell(nat.value / ts.value)}×` : '—', ref ? `${cell(ref.value)} ${ref.unit} (${ref.what})` : ''];
  });
  const gemm = all.filter((r) => r.name.startsWith('GEMM'));
  const throughput = all.filter((r) => r.unit === 'images/s');
  const groups = (rs: KernelRecord[]) => [...new Set(rs.map((r) => r.name))].map((name) => ({
    label: name.replace(/^GEMM /, '').replace(/ \(.*\)$/, '').replace('LeNet ', ''),
    values: Object.fromEntries(rs.filter((r) => r.name === name).map((r) => [r.path, r.value])),
  }));
  const kmeansRates = kmeans.filter((r) => r.unit.startsWith('points/s'));
  const plots = [
    { file: 'kmeans-kernels.svg', title: 'K-Means kernels, points/s per core', key: true, svg: barChart(kmeansRates.map((r) => ({ label: `${r.name.replace(' (mini-batch step)', '')} k=${(r as unknown as { k: number }).k} ${(r as unknown as { data: string }).data}`.replace(' none', ''), values: { [r.path]: r.value } })), { title: 'K-Means kernels (1 core)', xLabel: 'kernel', yLabel: 'points/s', logY: true }) },
  ];
  if (gemm.length > 0) plots.push({ file: 'gemm.svg', title: 'GEMM GFLOP/s on LeNet shapes, per path', key: true, svg: barChart(groups(gemm), { title: 'GEMM on LeNet shapes (1 core)', xLabel: 'shape', yLabel: 'GFLOP/s' }) });
  if (throughput.length > 0) plots.push({ file: 'lenet.svg', title: 'LeNet images/s, per path', key: false, svg: barChart(groups(throughput), { title: 'LeNet, batch 64 (1 core)', xLabel: 'pass', yLabel: 'images/s', logY: true }) });
  return {
    title: 'Kernels (one core, TypeScript and native paths)',
    transport: 'none (single process)',
    notes,
    tables: [{ id: 'kernels', title: 'Kernels per implementation path', header: ['kernel', 'unit', 'TypeScript', 'native', 'native ÷ TypeScript', 'reference (other library, from the issue)'], rows, key: true }],
    plots,
    records: all,
    options: { quick: args.quick, paths },
  };
}

export const kernelsSuite: Suite = {
  name: 'kernels',
  summary: 'K-Means assignment, GEMM GFLOP/s, LeNet forward/backward images/s; TypeScript and native paths side by side',
  flags: ['--quick', '--out'],
  run,
};
