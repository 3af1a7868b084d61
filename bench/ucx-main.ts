/**
 * `npm run bench -- ucx [options]` (bench/cli.ts forwards here): the UCX transport's put/get latency and
 * bandwidth from 8 B to 4 MiB and its putNotify one-way latency, 2 ranks, over shared memory and TCP
 * loopback, with ucx_perftest (ucp_put_lat, ucp_put_bw, ucp_get) run in the same invocation as the
 * ceiling. A table on stdout; `--json FILE` writes { host, records, failures }.
 *
 *   node dist/bench/ucx-main.js [--quick] [--fabric shm|tcp|shm,tcp] [--sizes 8,4096,...] [--no-perftest] [--json FILE]
 *
 * Exit status: 2 for bad usage, 1 when a part could not run (ucx unusable, a job failed), else 0;
 * figures never decide it.
 */
import { writeFileSync } from 'node:fs';
import { describeHost, formatBytes, formatTable } from './pgas.js';
import { runUcxBench, UCX_FABRICS, type UcxBenchOptions, type UcxBenchRecord, type UcxFabric } from './ucx.js';

const USAGE = 'usage: npm run bench -- ucx [--quick] [--fabric shm|tcp|shm,tcp] [--sizes 8,4096,...] [--no-perftest] [--json FILE]';

function parse(argv: readonly string[]): { options: UcxBenchOptions; json: string | undefined } | string {
  const options: UcxBenchOptions = { log: (line) => process.stderr.write(`${line}\n`) };
  let json: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): string | undefined => {
      const next = argv[++i];
      return next === undefined || next.startsWith('--') ? undefined : next;
    };
    if (arg === '--quick') options.quick = true;
    else if (arg === '--no-perftest') options.perftest = false;
    else if (arg === '--help' || arg === '-h') return '';
    else if (arg === '--json') {
      json = value();
      if (!json) return '--json needs a file name';
    } else if (arg === '--fabric') {
      const list = (value() ?? '').split(',').filter(Boolean);
      if (list.length === 0 || list.some((f) => !(f in UCX_FABRICS))) return `--fabric takes shm, tcp or shm,tcp, got '${list.join(',')}'`;
      options.fabrics = list as UcxFabric[];
    } else if (arg === '--sizes') {
      const sizes = (value() ?? '').split(',').map(Number);
      if (sizes.length === 0 || sizes.some((b) => !Number.isInteger(b) || b < 8 || b > 64 << 20)) return '--sizes takes byte counts from 8 to 67108864, comma-separated';
      options.sizes = sizes;
    } else {
      return `unknown argument '${arg}'`;
    }
  }
  return { options, json };
}

const UNITS: Record<UcxBenchRecord['metric'], string> = { latency_us: 'µs', one_way_latency_us: 'µs', bandwidth_GBps: 'GB/s', bandwidth_distinct_GBps: 'GB/s' };

function num(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '';
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(value >= 1 ? 2 : 3);
}

function figureLabel(r: UcxBenchRecord): string {
  const inflight = r.inflight ? `, ${r.inflight} in flight` : '';
  if (r.source === 'pgas' && r.metric === 'bandwidth_GBps') return `bandwidth (1 region${inflight})`;
  if (r.metric === 'bandwidth_distinct_GBps') return `bandwidth (${r.inflight ?? 1} regions${inflight})`;
  return r.metric.replace('_GBps', '').replace('_us', '');
}

export function formatUcxTable(records: readonly UcxBenchRecord[]): string {
  const header = ['fabric', 'source', 'op', 'size', 'figure', 'median', 'best', 'unit', 'samples', 'vs ucx_perftest', 'target'];
  const rows = records.map((r) => [
    r.fabric,
    r.source,
    r.op,
    formatBytes(r.bytes),
    figureLabel(r),
    num(r.value),
    num(r.best),
    UNITS[r.metric],
    r.samples === undefined ? '' : String(r.samples),
    r.ceiling ? `${r.ceiling.ratio.toFixed(2)}x of ${num(r.ceiling.value)}` : '',
    r.target ? `${r.target.met ? 'MET' : 'NOT MET'}: ${r.target.what}` : '',
  ]);
  return formatTable(header, rows, [false, false, false, true, false, true, true, false, true, true, false]);
}

const parsed = parse(process.argv.slice(2));
if (typeof parsed === 'string') {
  if (parsed === '') {
    process.stdout.write(`${USAGE}\n`);
  } else {
    process.stderr.write(`ucx bench: ${parsed}\n${USAGE}\n`);
    process.exitCode = 2;
  }
} else {
  const started = performance.now();
  const host = describeHost();
  const { records, failures } = await runUcxBench(parsed.options);
  process.stdout.write([
    `ucx transport benchmarks: 2 ranks on one host${parsed.options.quick ? ' (quick: short runs, rough figures)' : ''}; ${host}`,
    'shm = UCX_TLS=posix,sysv,self, tcp = UCX_TLS=tcp,self (loopback); latency: median of one op + wait (remote completion);',
    'putNotify one-way: ping-pong / 2, each target polling waitNotify with a zero timeout; bandwidth: N ops in flight + one wait,',
    'on one source and destination region (as ucx_perftest, which reuses one buffer) and on N distinct regions (cache-missing); GB/s = 10^9 B/s',
    '',
    formatUcxTable(records),
    '',
    `(${((performance.now() - started) / 1000).toFixed(1)} s)`,
    '',
  ].join('\n'));
  if (parsed.json !== undefined) writeFileSync(parsed.json, `${JSON.stringify({ host, records, failures }, null, 1)}\n`);
  if (failures.length > 0) {
    process.stderr.write(`\nucx bench: ${failures.length} part${failures.length === 1 ? '' : 's'} could not run:\n${failures.map((f) => `- ${f}`).join('\n')}\n`);
    process.exitCode = 1;
  }
}
