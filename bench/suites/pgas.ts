/**
 * `pgas`: the PGAS micro-benchmarks of every available transport side by side (bench/pgas.ts runs
 * them; this suite adds the result files, the plots and the report tables). Latency per op and
 * bandwidth against message size, each beside its floor measured in the same run.
 */
import { barChart, linePlot } from '../plot.js';
import { describeHost, formatBytes, formatPgasTable, formatVerdict, PGAS_TRANSPORTS, runPgasBench, type PgasBenchRecord } from '../pgas.js';
import type { SuiteOutput } from '../results.js';
import { cell } from '../series.js';
import type { Suite, SuiteContext } from './types.js';

async function run(ctx: SuiteContext): Promise<SuiteOutput> {
  const { args, log } = ctx;
  const transports = args.transport === undefined || args.transport === 'all' ? [...PGAS_TRANSPORTS] : [args.transport as (typeof PGAS_TRANSPORTS)[number]];
  const { records, failures } = await runPgasBench({ transports, quick: args.quick, log });
  const bandwidth = records.filter((r) => r.metric === 'bandwidth_GBps');
  const seriesKey = (r: PgasBenchRecord): string => `${r.transport === 'baseline' ? '' : `${r.transport} `}${r.op}`;
  const names = [...new Set(bandwidth.map(seriesKey))];
  const series = names.map((name) => {
    const rs = bandwidth.filter((r) => seriesKey(r) === name).sort((a, b) => a.bytes - b.bytes);
    return { label: name, x: rs.map((r) => r.bytes), y: rs.map((r) => r.value), dashed: rs[0]?.transport === 'baseline' };
  });
  const latency = records.filter((r) => r.metric !== 'bandwidth_GBps');
  const groups = [...new Set(latency.map((r) => `${r.op} ${r.metric === 'latency_us' ? '' : r.metric.replace('_us', '')} ${r.bytes ? formatBytes(r.bytes) : ''}`.replace(/\s+/g, ' ').trim()))];
  const bars = groups.map((label) => ({
    label,
    values: Object.fromEntries(latency.filter((r) => `${r.op} ${r.metric === 'latency_us' ? '' : r.metric.replace('_us', '')} ${r.bytes ? formatBytes(r.bytes) : ''}`.replace(/\s+/g, ' ').trim() === label)
      .map((r) => [r.transport === 'baseline' ? r.op : r.transport, r.value])),
  }));
  const rows = records.map((r) => [
    r.transport, r.op, r.bytes ? formatBytes(r.bytes) : '—', r.metric.replace('_us', ' (µs)').replace('_GBps', ' (GB/s)'), cell(r.value),
    r.ratio_to_baseline !== undefined ? `${cell(r.ratio_to_baseline)} × ${r.baseline}` : '', String(r.iterations),
  ]);
  const host = describeHost();
  return {
    title: 'PGAS micro-benchmarks (2 ranks, loopback)',
    transport: transports.join(', '),
    notes: [
      'put/get latency is the time to remote completion (post + wait); bandwidth = N ops in flight and one wait; every figure is the median sample, set beside its floor (ws echo for uws, memcpy for threads) measured in the same run.',
      ...(failures.length ? [`Parts that could not run: ${failures.join('; ')}`] : []),
    ],
    tables: [{ id: 'pgas', title: 'PGAS operations per transport', header: ['transport', 'op', 'size', 'metric', 'value', 'ratio to floor', 'samples'], rows, key: true }],
    plots: [
      { file: 'bandwidth.svg', title: 'put/get bandwidth against message size, per transport, with the floors', key: true, svg: linePlot(series, { title: 'PGAS bandwidth vs message size', subtitle: host, xLabel: 'bytes per operation', yLabel: 'GB/s', logX: true, logY: true }) },
      { file: 'latency.svg', title: 'latencies per transport', svg: barChart(bars, { title: 'PGAS latencies', subtitle: host, xLabel: 'operation', yLabel: 'µs', logY: true }) },
    ],
    records,
    options: { transports, quick: args.quick, failures },
    text: [formatPgasTable(records), '', formatVerdict(records)].join('\n'),
  };
}

export const pgasSuite: Suite = {
  name: 'pgas',
  summary: `put/get/putNotify/barrier/allreduce on 2 ranks per transport beside their floors (--transport ${[...PGAS_TRANSPORTS, 'all'].join('|')} --json FILE)`,
  flags: ['--quick', '--out', '--transport', '--json'],
  transports: [...PGAS_TRANSPORTS, 'all'],
  run,
};
