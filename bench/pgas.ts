/**
 * The pgas micro-benchmarks (`npm run bench -- pgas`): one-sided put/get latency and bandwidth,
 * putNotify ping-pong, barrier and allreduce, 2 ranks on loopback, per transport; with, measured in
 * the same run, the floors they are judged against: a plain `ws` client to a uWebSockets.js echo
 * server (for uws), a plain TypedArray.set copy (for threads) and `ucx_perftest` on the same UCX
 * transports (for ucx: ucp_put_lat, ucp_put_bw, ucp_get). Figures are reported, never asserted.
 */
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { runRankJob, spawnNode, taggedLines, type BenchTransport } from './job.js';
import type { RawRecord } from './stats.js';
import {
  BANDWIDTH_SIZES, ECHO_BW_BYTES, ECHO_PORT_TAG, ECHO_RTT_BYTES, ECHO_TAG, LATENCY_BYTES, RANK_DONE_TAG, RANK_TAG, type RankSpec,
} from './pgas-spec.js';
import { MIB_PER_S_TO_GBPS, perftest, perftestInstalled, probeUcxUsable, ucxEnv } from './ucx.js';

/** `--transport all`: every transport; ucx only where it is usable (otherwise skipped, and said so). */
export const PGAS_TRANSPORTS: readonly BenchTransport[] = ['threads', 'uws', 'ucx'];

/** UCX transports of the ucx job and its ucx_perftest ceiling: the user's UCX_TLS, else shared memory. */
export function benchUcxTls(env: NodeJS.ProcessEnv = process.env): string {
  return env.UCX_TLS || 'posix,sysv,self';
}

export interface PgasBenchOptions {
  transports: BenchTransport[];
  /** short runs (a smoke test of the benchmark itself, ~20 s) */
  quick?: boolean;
  /** progress lines (stderr by default in the CLI) */
  log?: (line: string) => void;
  /**
   * A transport that cannot run on this installation (ucx without its addon or UCX) is skipped and
   * listed in `skipped` instead of failing. Default: true when several transports are asked for
   * (`all`), false when ucx is asked for alone (then it is a failure that says why).
   */
  skipUnusable?: boolean;
}

/** One measurement, as written to the --json file. */
export interface PgasBenchRecord {
  /** 'baseline' for the floors (ws-echo, memcpy) */
  transport: BenchTransport | 'baseline';
  op: string;
  bytes: number;
  metric: RawRecord['metric'];
  /** latency: the median time (µs); bandwidth: bytes / median time (GB/s = 10^9 B/s) */
  value: number;
  /** timed samples (bandwidth: each sample is `inflight` operations and one wait) */
  iterations: number;
  /** value / baseline_value (latency: above 1 is slower than the floor; bandwidth: below 1 is slower) */
  ratio_to_baseline?: number;
  /** which baseline record the ratio is taken against, e.g. 'ws-echo rtt_us 8 B' */
  baseline?: string;
  baseline_value?: number;
  /** the figure from the mean time instead of the median */
  mean: number;
  /** the best sample (lowest latency, highest bandwidth) */
  best: number;
  inflight?: number;
  method: RawRecord['method'] | 'ucx_perftest';
  /** where it says more: the UCX transports used (ucx, ucx_perftest) */
  note?: string;
}

export interface PgasBenchResult {
  records: PgasBenchRecord[];
  /** transports or baselines that failed to run, with the reason */
  failures: string[];
  /** transports left out because they cannot run here, with the reason (see skipUnusable) */
  skipped: string[];
}

const here = (file: string): string => fileURLToPath(new URL(`./${file}`, import.meta.url));

async function runTransport(transport: BenchTransport, quick: boolean): Promise<RawRecord[]> {
  const spec: RankSpec = { quick, memcpy: transport === 'threads' };
  const result = await runRankJob({
    transport,
    size: 2,
    entry: here('pgas-rank.js'),
    args: [JSON.stringify(spec)],
    timeoutMs: quick ? 60_000 : 150_000,
    ...(transport === 'ucx' ? { env: ucxEnv(benchUcxTls()) } : {}),
  });
  const done = taggedLines<object>(result.stdout, RANK_DONE_TAG).length > 0;
  if (!done || result.codes.some((c) => c !== 0)) {
    const why = result.timedOut ? 'timed out' : `exit codes ${JSON.stringify(result.codes)}${result.signals.some(Boolean) ? `, signals ${JSON.stringify(result.signals)}` : ''}`;
    throw new Error(`the ${transport} job failed (${why}):\n${tail(result.stderr, 3000)}`);
  }
  return taggedLines<RawRecord>(result.stdout, RANK_TAG);
}

/** The ws -> uWebSockets.js echo floor: a server process and a client process. */
async function runEcho(quick: boolean): Promise<RawRecord[]> {
  const entry = here('ws-echo.js');
  const server = spawnNode(entry, ['server'], process.env, 'pipe');
  let serverErr = '';
  server.stderr!.on('data', (d: Buffer) => (serverErr += d.toString()));
  const serverExit = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`the echo server did not report its port within 20 s:\n${serverErr}`)), 20_000);
      server.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = new RegExp(`^${ECHO_PORT_TAG} (\\d+)$`, 'm').exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      server.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the echo server exited (${code}) before listening:\n${serverErr}`));
      });
    });
    const client = spawnNode(entry, ['client', String(port), quick ? 'quick' : 'full'], process.env);
    let out = '';
    let err = '';
    client.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    client.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => client.kill('SIGKILL'), 60_000);
    const code = await new Promise<number | null>((resolve) => client.once('exit', (c) => resolve(c)));
    clearTimeout(timer);
    const records = taggedLines<RawRecord>(out, ECHO_TAG);
    if (code !== 0 || records.length < 6) throw new Error(`the ws echo client failed (exit ${code}):\n${tail(err, 3000)}`);
    return records;
  } finally {
    server.stdin!.end();
    const timer = setTimeout(() => server.kill('SIGKILL'), 5000);
    await serverExit;
    clearTimeout(timer);
  }
}

/**
 * The ucx transport's ceiling: ucx_perftest (a server and a client process) on the same UCX transports,
 * at the sizes the rank program measures: ucp_put_lat 8 B (one-way, it polls memory), ucp_put_bw and
 * ucp_get at every bandwidth size.
 */
async function runPerftestCeilings(quick: boolean, tls: string): Promise<{ records: RawRecord[]; failures: string[] }> {
  const records: RawRecord[] = [];
  const failures: string[] = [];
  const tcp = /(^|,)tcp/.test(tls) && !/(^|,)(posix|sysv|cma|knem|xpmem)/.test(tls);
  const tests: [string, number][] = [['ucp_put_lat', LATENCY_BYTES]];
  for (const [bytes] of BANDWIDTH_SIZES) tests.push(['ucp_put_bw', bytes], ['ucp_get', bytes]);
  for (const [test, bytes] of tests) {
    // a byte budget per figure; over TCP every ucx_perftest get waits for the server's progress
    const cap = tcp ? (test === 'ucp_get' ? 300 : 20000) : 100000;
    const iterations = test === 'ucp_put_lat' ? (quick ? 20000 : 100000) : Math.max(20, Math.min(cap, Math.floor((quick ? 256 : 1024) * 1048576 / bytes)));
    try {
      const got = await perftest(tls, test, bytes, iterations);
      const latency = test === 'ucp_put_lat';
      const value = latency ? got.latency50 : got.bandwidthMBs * MIB_PER_S_TO_GBPS;
      records.push({
        op: `ucx_perftest ${test}`, bytes, metric: latency ? 'one_way_us' : 'bandwidth_GBps', value, mean: value, best: value,
        iterations, method: 'loop',
      });
    } catch (error) {
      failures.push(`ucx_perftest ${test} ${bytes} B: ${(error as Error).message}`);
    }
  }
  return { records, failures };
}

function tail(text: string, chars: number): string {
  return text.length <= chars ? text : `...${text.slice(-chars)}`;
}

function key(op: string, metric: string, bytes: number): string {
  return `${op} ${metric} ${bytes} B`;
}

/** Run the selected transports (and their baselines) one after the other. */
export async function runPgasBench(options: PgasBenchOptions): Promise<PgasBenchResult> {
  const quick = options.quick ?? false;
  const log = options.log ?? (() => {});
  const records: PgasBenchRecord[] = [];
  const failures: string[] = [];
  const skipped: string[] = [];
  const skipUnusable = options.skipUnusable ?? options.transports.length > 1;
  const full = (transport: PgasBenchRecord['transport'], r: RawRecord): PgasBenchRecord => ({ transport, ...r });

  for (const transport of options.transports) {
    let note: string | undefined;
    if (transport === 'ucx') {
      const status = probeUcxUsable();
      if (!status.usable) {
        const why = `ucx: skipped, not usable here: ${status.reason}`;
        log(`pgas bench: ${why}`);
        if (skipUnusable) skipped.push(why);
        else failures.push(why);
        continue;
      }
      const tls = benchUcxTls();
      note = `UCX_TLS=${tls}`;
      if (perftestInstalled()) {
        log(`pgas bench: ceiling: ucx_perftest (${note}; ucp_put_lat, ucp_put_bw, ucp_get)`);
        const ceilings = await runPerftestCeilings(quick, tls);
        for (const r of ceilings.records) records.push({ ...full('baseline', r), method: 'ucx_perftest', note });
        failures.push(...ceilings.failures);
      } else {
        failures.push('ucx_perftest: not installed (Debian/Ubuntu: apt-get install ucx-utils); the ucx figures have no ceiling');
      }
    }
    if (transport === 'uws') {
      log('pgas bench: baseline: ws client -> uWebSockets.js echo server (separate processes)');
      try {
        for (const r of await runEcho(quick)) records.push(full('baseline', r));
      } catch (error) {
        failures.push(`ws echo baseline: ${(error as Error).message}`);
      }
    }
    log(`pgas bench: ${transport}, 2 ranks${quick ? ' (quick)' : ''}`);
    const started = performance.now();
    try {
      for (const r of await runTransport(transport, quick)) {
        const record = r.op === 'memcpy' ? full('baseline', r) : full(transport, r);
        records.push(note && record.transport === 'ucx' ? { ...record, note } : record);
      }
      log(`pgas bench: ${transport} done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    } catch (error) {
      failures.push(`${transport}: ${(error as Error).message}`);
    }
  }
  addRatios(records);
  return { records, failures, skipped };
}

/** Attach each record's ratio to the floor it is judged against. */
function addRatios(records: PgasBenchRecord[]): void {
  const base = new Map<string, PgasBenchRecord>();
  for (const r of records) if (r.transport === 'baseline') base.set(key(r.op, r.metric, r.bytes), r);
  const link = (r: PgasBenchRecord, b: PgasBenchRecord | undefined): void => {
    if (!b) return;
    r.baseline = key(b.op, b.metric, b.bytes);
    r.baseline_value = b.value;
    r.ratio_to_baseline = r.value / b.value;
  };
  for (const r of records) {
    if (r.transport === 'threads' && r.metric === 'bandwidth_GBps') {
      link(r, base.get(key('memcpy', 'bandwidth_GBps', r.bytes)));
    } else if (r.transport === 'uws') {
      if (r.metric === 'bandwidth_GBps') link(r, base.get(key('ws-echo', 'bandwidth_GBps', r.bytes)));
      else if (r.op === 'putNotify' && r.metric === 'one_way_us') link(r, base.get(key('ws-echo', 'one_way_us', ECHO_RTT_BYTES)));
      else if (r.op === 'putNotify' && r.metric === 'rtt_us') link(r, base.get(key('ws-echo', 'rtt_us', ECHO_RTT_BYTES)));
      // a put or get with wait(queue) is a round trip (the remote completion comes back)
      else if ((r.op === 'put' || r.op === 'get') && r.metric === 'latency_us' && r.bytes === ECHO_RTT_BYTES) {
        link(r, base.get(key('ws-echo', 'rtt_us', ECHO_RTT_BYTES)));
      }
    } else if (r.transport === 'ucx') {
      // ucx_perftest is the ceiling: bandwidth ratios below 1 and latency ratios above 1 are what is lost
      if (r.metric === 'bandwidth_GBps') link(r, base.get(key(r.op === 'put' ? 'ucx_perftest ucp_put_bw' : 'ucx_perftest ucp_get', 'bandwidth_GBps', r.bytes)));
      else if (r.op === 'putNotify' && r.metric === 'one_way_us') link(r, base.get(key('ucx_perftest ucp_put_lat', 'one_way_us', LATENCY_BYTES)));
    }
  }
}

// ---- output ---------------------------------------------------------------------------------------

export function formatBytes(bytes: number): string {
  if (bytes === 0) return '-';
  if (bytes >= 1 << 20 && bytes % (1 << 20) === 0) return `${bytes >> 20} MiB`;
  if (bytes >= 1 << 10 && bytes % (1 << 10) === 0) return `${bytes >> 10} KiB`;
  return `${bytes} B`;
}

const UNITS: Record<RawRecord['metric'], string> = {
  latency_us: 'µs',
  rtt_us: 'µs',
  one_way_us: 'µs',
  bandwidth_GBps: 'GB/s',
};

const LABELS: Record<RawRecord['metric'], string> = {
  latency_us: 'latency',
  rtt_us: 'round trip',
  one_way_us: 'one-way (RTT/2)',
  bandwidth_GBps: 'bandwidth',
};

function num(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

export function formatTable(header: string[], rows: string[][], rightAligned: boolean[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (rightAligned[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** 'ws-echo rtt_us 8 B' -> 'ws-echo round trip 8 B' */
function floorName(baseline: string): string {
  const words = baseline.split(' ');
  const [metric, bytes] = words.slice(-3, -1);
  const op = words.slice(0, -3).join(' ');
  const label = LABELS[metric as RawRecord['metric']] ?? metric;
  return `${op} ${label.replace(' (RTT/2)', '')} ${formatBytes(Number(bytes))}`;
}

export function formatPgasTable(records: readonly PgasBenchRecord[]): string {
  const header = ['transport', 'op', 'size', 'figure', 'median', 'mean', 'best', 'unit', 'samples', 'vs floor', 'floor'];
  const rows = records.map((r) => [
    r.transport,
    r.op,
    formatBytes(r.bytes),
    `${LABELS[r.metric]}${r.inflight ? ` (${r.inflight} in flight)` : ''}`,
    num(r.value),
    num(r.mean),
    num(r.best),
    UNITS[r.metric],
    String(r.iterations),
    r.ratio_to_baseline === undefined ? '' : `${r.ratio_to_baseline.toFixed(2)}x`,
    r.baseline === undefined ? '' : floorName(r.baseline),
  ]);
  return formatTable(header, rows, [false, false, true, false, true, true, true, false, true, true, false]);
}

/** Reference host of the issue: ws -> uWS echo 12 µs round trip; targets and MPI/UCX figures there. */
export const REFERENCE = {
  echoRttUs: 12,
  putNotifyOneWayUs: 15,
  putBandwidthGBps: 3,
  mpiPutLatencyUs: 7.4,
  mpiBandwidthGBps: 5.6,
  ucxPutLatencyUs: 5.7,
  ucxBandwidthGBps: 2.0,
} as const;

/** The short comparison with the issue's targets (judged by ratio: hosts differ). */
export function formatVerdict(records: readonly PgasBenchRecord[]): string {
  const find = (transport: PgasBenchRecord['transport'], op: string, metric: RawRecord['metric'], bytes: number): PgasBenchRecord | undefined =>
    records.find((r) => r.transport === transport && r.op === op && r.metric === metric && r.bytes === bytes);
  const lines: string[] = ['Verdict (targets of issue 2; judged by ratio to the floor measured in this run, since hosts differ):'];
  const mark = (ok: boolean): string => (ok ? 'MET' : 'NOT MET');

  const echoRtt = find('baseline', 'ws-echo', 'rtt_us', ECHO_RTT_BYTES);
  const echoBw = find('baseline', 'ws-echo', 'bandwidth_GBps', ECHO_BW_BYTES);
  const oneWay = find('uws', 'putNotify', 'one_way_us', ECHO_RTT_BYTES);
  const uwsPut = find('uws', 'put', 'bandwidth_GBps', 4 << 20);
  const uwsPutLat = find('uws', 'put', 'latency_us', ECHO_RTT_BYTES);
  if (oneWay && echoRtt) {
    const r = oneWay.value / echoRtt.value;
    const limit = REFERENCE.putNotifyOneWayUs / REFERENCE.echoRttUs;
    lines.push(`- uws putNotify 8 B one-way ${num(oneWay.value)} µs = ${r.toFixed(2)} x the ws->uWS echo round trip (${num(echoRtt.value)} µs); ` +
      `target <= ${limit.toFixed(2)} x (15 µs at a 12 µs echo): ${mark(r <= limit)}. ` +
      `On the reference host's scale: ${num(r * REFERENCE.echoRttUs)} µs. Against the echo's own one-way (RTT/2): ${(oneWay.value / (echoRtt.value / 2)).toFixed(2)} x.`);
  } else if (oneWay || echoRtt) {
    lines.push('- uws putNotify one-way vs echo: one of the two figures is missing (see failures)');
  }
  if (uwsPut) {
    const vsEcho = echoBw ? `; ${(uwsPut.value / echoBw.value).toFixed(2)} x the ws->uWS floor (${num(echoBw.value)} GB/s)` : '';
    const floorBelow = echoBw && echoBw.value < REFERENCE.putBandwidthGBps
      ? ` The floor itself is below ${REFERENCE.putBandwidthGBps} GB/s on this host, so the ratio to it is the fairer judgement here.`
      : '';
    lines.push(`- uws put 4 MiB bandwidth ${num(uwsPut.value)} GB/s (best sample ${num(uwsPut.best)})${vsEcho}; ` +
      `target >= ${REFERENCE.putBandwidthGBps} GB/s: ${mark(uwsPut.value >= REFERENCE.putBandwidthGBps)} ` +
      `(reference host: MPI RMA ${REFERENCE.mpiBandwidthGBps}, UCX/TCP ${REFERENCE.ucxBandwidthGBps} GB/s).${floorBelow}`);
  }
  for (const op of ['put', 'get'] as const) {
    const sized = records.filter((r) => r.transport === 'uws' && r.op === op && r.metric === 'bandwidth_GBps' && r.ratio_to_baseline !== undefined);
    if (sized.length > 0) {
      lines.push(`- uws ${op} bandwidth / ws->uWS floor of the same size and messages in flight: ` +
        `${sized.map((r) => `${formatBytes(r.bytes)} ${r.ratio_to_baseline!.toFixed(2)} x`).join(', ')} (informational).`);
    }
  }
  if (uwsPutLat && echoRtt) {
    const r = uwsPutLat.value / echoRtt.value;
    lines.push(`- uws put 8 B + wait ${num(uwsPutLat.value)} µs = ${r.toFixed(2)} x the echo round trip; on the reference host's scale ${num(r * REFERENCE.echoRttUs)} µs ` +
      `(there: MPI put+flush ${REFERENCE.mpiPutLatencyUs} µs, UCX/TCP ${REFERENCE.ucxPutLatencyUs} µs; informational, no target).`);
  }
  const thrPut = find('threads', 'put', 'bandwidth_GBps', 4 << 20);
  const memcpy = find('baseline', 'memcpy', 'bandwidth_GBps', 4 << 20);
  if (thrPut && memcpy) {
    const r = thrPut.value / memcpy.value;
    lines.push(`- threads put 4 MiB ${num(thrPut.value)} GB/s vs TypedArray.set ${num(memcpy.value)} GB/s = ${r.toFixed(2)} x; ` +
      `target: memory-copy speed (>= 0.9 x): ${mark(r >= 0.9)}.`);
  }
  lines.push(...ucxVerdict(records));
  if (lines.length === 1) lines.push('- nothing to compare (the transports or baselines did not run)');
  return lines.join('\n');
}

/** Issue 13's targets for the ucx transport, against ucx_perftest measured in the same run. */
function ucxVerdict(records: readonly PgasBenchRecord[]): string[] {
  const lines: string[] = [];
  const mark = (ok: boolean): string => (ok ? 'MET' : 'NOT MET');
  const put4m = records.find((r) => r.transport === 'ucx' && r.op === 'put' && r.metric === 'bandwidth_GBps' && r.bytes === 4 << 20);
  const oneWay = records.find((r) => r.transport === 'ucx' && r.op === 'putNotify' && r.metric === 'one_way_us');
  const shm = !/(^|,)tcp/.test(put4m?.note ?? oneWay?.note ?? '') || /(posix|sysv)/.test(put4m?.note ?? oneWay?.note ?? '');
  if (put4m?.ratio_to_baseline !== undefined) {
    const share = shm ? 0.8 : 0.9;
    lines.push(`- ucx put 4 MiB ${num(put4m.value)} GB/s = ${put4m.ratio_to_baseline.toFixed(2)} x ucx_perftest ucp_put_bw (${num(put4m.baseline_value!)} GB/s, ${put4m.note ?? ''}); ` +
      `target >= ${share} x: ${mark(put4m.ratio_to_baseline >= share)}.`);
  }
  if (oneWay) {
    const ceiling = oneWay.ratio_to_baseline !== undefined ? ` = ${oneWay.ratio_to_baseline.toFixed(1)} x ucx_perftest ucp_put_lat (${num(oneWay.baseline_value!)} µs)` : '';
    lines.push(`- ucx putNotify 8 B one-way ${num(oneWay.value)} µs${ceiling} (${oneWay.note ?? ''}; the target here blocks in waitNotify, ` +
      `the issue's < 3 µs target is for a zero-timeout polling target: see npm run bench -- ucx).`);
  }
  return lines;
}

export function describeHost(): string {
  const c = cpus();
  return `host: ${c.length} CPU${c.length === 1 ? '' : 's'} (${c[0]?.model.trim() ?? 'unknown'}), Node ${process.version}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`;
}
