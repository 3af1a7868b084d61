/**
 * The UCX transport's benchmark: put/get latency and bandwidth from 8 B to 4 MiB and putNotify one-way
 * latency, 2 ranks, over shared memory (UCX_TLS=posix,sysv,self) and TCP loopback (UCX_TLS=tcp,self);
 * with, in the same run, `ucx_perftest` (Debian: ucx-utils) as the ceiling: ucp_put_lat, ucp_put_bw and
 * ucp_get on the same transports. Figures are reported, never asserted; records that have a target
 * from the issue carry it and say whether it was met.
 *
 *   import { runUcxBench } from './ucx.js';
 *   const { records, failures } = await runUcxBench({ quick: true });
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { UcxRankRecord, UcxRankSpec } from './ucx-rank.js';
import { freePort } from '../runtime/launcher/free-port.js';
import { ucxUsableInChild as probeUcxUsable } from '../pgas/transports/ucx/probe-child.js';

/** Whether this installation can run the ucx transport (asked in a child: UCX stays out of this process). */
export { probeUcxUsable };

export type UcxFabric = 'shm' | 'tcp';

export const UCX_FABRICS: Record<UcxFabric, string> = { shm: 'posix,sysv,self', tcp: 'tcp,self' };

/**
 * UCX's environment for a transport list: over TCP, pin UCX to the loopback device (unless the user
 * chose devices), or it also opens lanes over eth0 and the "loopback" figure is not loopback.
 */
export function ucxEnv(tls: string, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = { UCX_TLS: tls };
  if (/\btcp\b/.test(tls) && !env.UCX_NET_DEVICES) out.UCX_NET_DEVICES = 'lo';
  return out;
}
/** The latency target and the ucx_perftest figure quoted beside it (shared memory, 8 B put). */
const PUT_NOTIFY_TARGET_US = 3;
const PUT_LAT_QUOTED_US = 0.16;

export const UCX_BENCH_SIZES = [8, 64, 512, 4096, 32768, 262144, 1048576, 4194304];

export interface UcxBenchOptions {
  /** default both */
  fabrics?: UcxFabric[];
  /** short runs (~0.05 s per figure, 2,000 round trips): a smoke test of the benchmark */
  quick?: boolean;
  /** default true: run ucx_perftest as the ceiling */
  perftest?: boolean;
  /** message sizes (default 8 B .. 4 MiB, factors of 8) */
  sizes?: number[];
  log?: (line: string) => void;
}

export interface UcxBenchRecord {
  suite: 'ucx';
  /** 'pgas' for this runtime's figures, 'ucx_perftest' for the ceiling */
  source: 'pgas' | 'ucx_perftest';
  fabric: UcxFabric;
  ucx_tls: string;
  /** put, get, putNotify, or the perftest test (ucp_put_lat, ucp_put_bw, ucp_get) */
  op: string;
  bytes: number;
  /** bandwidth_GBps: every operation on one region, as ucx_perftest; bandwidth_distinct_GBps: `inflight` regions */
  metric: 'latency_us' | 'one_way_latency_us' | 'bandwidth_GBps' | 'bandwidth_distinct_GBps';
  /** median (latency: µs; bandwidth: 10^9 B/s) */
  value: number;
  best?: number;
  samples?: number;
  inflight?: number;
  /** the ucx_perftest figure this one is held against, and value / ceiling */
  ceiling?: { op: string; value: number; ratio: number };
  /** the target, where it sets one */
  target?: { what: string; met: boolean };
  note?: string;
}

export interface UcxBenchResult {
  records: UcxBenchRecord[];
  /** what could not be measured, and why */
  failures: string[];
}

const here = (file: string): string => fileURLToPath(new URL(`./${file}`, import.meta.url));

interface Exit { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

function run(command: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): { exit: Promise<Exit>; kill: () => void } {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const exit = new Promise<Exit>((resolve) => child.on('close', (code, signal) => {
    clearTimeout(timer);
    resolve({ code, signal, stdout, stderr });
  }));
  return { exit, kill: () => child.kill('SIGKILL') };
}

async function runRanks(fabric: UcxFabric, spec: UcxRankSpec, timeoutMs: number): Promise<UcxRankRecord[]> {
  const port = await freePort();
  const env = {
    ...process.env,
    PGAS_TRANSPORT: 'ucx',
    ...ucxEnv(UCX_FABRICS[fabric]),
    PGAS_SIZE: '2',
    PGAS_RENDEZVOUS: `127.0.0.1:${port}`,
    PGAS_TOKEN: randomBytes(16).toString('hex'),
  };
  const ranks = [0, 1].map((r) => run(process.execPath, [here('ucx-rank.js'), JSON.stringify(spec)], { ...env, PGAS_RANK: String(r) }, timeoutMs));
  const exits = await Promise.all(ranks.map((r) => r.exit));
  const out = exits[0]!.stdout;
  if (!out.includes('UCXBENCH-DONE') || exits.some((e) => e.code !== 0)) {
    throw new Error(`the ${fabric} job failed (exits: ${exits.map((e) => e.code ?? e.signal).join(', ')}): ${exits.map((e) => e.stderr.slice(-1500)).join('\n')}`);
  }
  return out.split('\n').filter((l) => l.startsWith('UCXBENCH ')).map((l) => JSON.parse(l.slice(9)) as UcxRankRecord);
}

/** One ucx_perftest measurement: a server and a client process on loopback. Returns the "Final:" row. */
export async function perftest(tls: string, test: string, bytes: number, iterations: number): Promise<{ latency50: number; bandwidthMBs: number }> {
  const port = await freePort();
  const env = { ...process.env, ...ucxEnv(tls) };
  const server = run('ucx_perftest', ['-p', String(port)], env, 90000);
  let client: Exit | undefined;
  for (let attempt = 0; attempt < 50; attempt++) {
    await new Promise((r) => setTimeout(r, 100));
    client = await run('ucx_perftest', ['127.0.0.1', '-p', String(port), '-t', test, '-s', String(bytes), '-n', String(iterations)], env, 60000).exit;
    if (/Final:/.test(client.stdout)) break;
  }
  server.kill();
  await server.exit;
  const final = /Final:\s+(.*)$/m.exec(client?.stdout ?? '');
  if (!final) throw new Error(`ucx_perftest ${test} ${bytes} B gave no result: ${(client?.stderr ?? '').slice(-500)}`);
  // iterations, latency 50%ile, avg, overall, bandwidth avg, overall (MB/s, 2^20 B), msg rate avg, overall
  const cols = final[1]!.trim().split(/\s+/).map(Number);
  return { latency50: cols[1]!, bandwidthMBs: cols[5]! };
}

export const MIB_PER_S_TO_GBPS = 1048576 / 1e9;

/** Whether `ucx_perftest` (Debian: ucx-utils) can be run. */
export function perftestInstalled(): boolean {
  return spawnSync('ucx_perftest', ['-h'], { encoding: 'utf8' }).error === undefined;
}

export async function runUcxBench(options: UcxBenchOptions = {}): Promise<UcxBenchResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const fabrics = options.fabrics ?? (['shm', 'tcp'] as UcxFabric[]);
  const sizes = options.sizes ?? UCX_BENCH_SIZES;
  const quick = options.quick ?? false;
  const records: UcxBenchRecord[] = [];
  const failures: string[] = [];
  const status = probeUcxUsable();
  if (!status.usable) return { records, failures: [`ucx: unavailable: ${status.reason}`] };
  log(`ucx bench: ${status.reason}`);
  const havePerftest = options.perftest !== false && perftestInstalled();
  if (options.perftest !== false && !havePerftest) failures.push('ucx_perftest: not installed (Debian/Ubuntu: apt-get install ucx-utils); no ceiling figures');

  for (const fabric of fabrics) {
    const tls = UCX_FABRICS[fabric];
    const spec: UcxRankSpec = { sizes, seconds: quick ? 0.05 : 0.3, pingPongs: quick ? 2000 : 20000 };
    log(`ucx bench: ${fabric} (UCX_TLS=${tls}) ...`);
    const mine: UcxBenchRecord[] = [];
    try {
      for (const r of await runRanks(fabric, spec, quick ? 120000 : 300000)) {
        if (r.op === 'info') {
          log(`ucx bench: ${fabric} lanes: ${r.note ?? ''}`);
          continue;
        }
        mine.push({
          suite: 'ucx', source: 'pgas', fabric, ucx_tls: tls, op: r.op, bytes: r.bytes,
          metric: r.metric as UcxBenchRecord['metric'], value: r.value, best: r.best, samples: r.samples,
          ...(r.inflight ? { inflight: r.inflight } : {}),
        });
      }
    } catch (error) {
      failures.push(`ucx ${fabric}: ${(error as Error).message}`);
    }
    const ceilings: UcxBenchRecord[] = [];
    if (havePerftest) {
      const tests: [string, number, UcxBenchRecord['metric']][] = [['ucp_put_lat', 8, 'one_way_latency_us']];
      for (const bytes of sizes) tests.push(['ucp_put_bw', bytes, 'bandwidth_GBps'], ['ucp_get', bytes, 'bandwidth_GBps']);
      for (const [test, bytes, metric] of tests) {
        // Over TCP every ucx_perftest get waits for the server to progress (about a millisecond each
        // here), so it gets few iterations; everything else a byte budget.
        const cap = fabric === 'tcp' ? (test === 'ucp_get' ? 300 : 20000) : 100000;
        const iterations = test === 'ucp_put_lat' ? (quick ? 20000 : 100000) : Math.max(20, Math.min(cap, Math.floor((quick ? 256 : 2048) * 1048576 / bytes)));
        try {
          const got = await perftest(tls, test, bytes, iterations);
          ceilings.push({
            suite: 'ucx', source: 'ucx_perftest', fabric, ucx_tls: tls, op: test, bytes, metric,
            value: metric === 'bandwidth_GBps' ? got.bandwidthMBs * MIB_PER_S_TO_GBPS : got.latency50,
            samples: iterations,
            note: metric === 'bandwidth_GBps' ? `ucx_perftest reports ${got.bandwidthMBs} MB/s (MB = 2^20 B)` : 'median one-way latency (ping-pong through memory)',
          });
        } catch (error) {
          failures.push(`ucx_perftest ${fabric} ${test} ${bytes} B: ${(error as Error).message}`);
        }
      }
    }
    // Hold each figure against its ceiling; mark the targets.
    for (const r of mine) {
      const against = r.op === 'putNotify' ? ceilings.find((c) => c.op === 'ucp_put_lat')
        : r.metric === 'bandwidth_GBps' || r.metric === 'bandwidth_distinct_GBps' ? ceilings.find((c) => c.op === (r.op === 'put' ? 'ucp_put_bw' : 'ucp_get') && c.bytes === r.bytes)
        : undefined;
      if (against) r.ceiling = { op: `ucx_perftest ${against.op} ${against.bytes} B`, value: against.value, ratio: r.value / against.value };
      if (r.op === 'put' && r.metric === 'bandwidth_GBps' && r.bytes === 4194304 && r.ceiling) {
        const share = fabric === 'shm' ? 0.8 : 0.9;
        r.target = { what: `4 MiB put bandwidth >= ${share * 100}% of ucx_perftest ucp_put_bw`, met: r.ceiling.ratio >= share };
      }
      if (r.op === 'putNotify' && fabric === 'shm') {
        // The 3 µs stands beside ucx_perftest's 0.16 µs on its host (DEVELOPERS.md: an
        // absolute target is its ratio to the baseline quoted with it), so judge by that ratio here.
        const ratio = PUT_NOTIFY_TARGET_US / PUT_LAT_QUOTED_US;
        r.target = r.ceiling
          ? { what: `8 B putNotify one-way latency < ${PUT_NOTIFY_TARGET_US} µs where ucx_perftest gave ${PUT_LAT_QUOTED_US} µs, i.e. <= ${ratio.toFixed(2)} x ucp_put_lat measured here (${(ratio * r.ceiling.value).toFixed(2)} µs)`, met: r.ceiling.ratio <= ratio }
          : { what: `8 B putNotify one-way latency < ${PUT_NOTIFY_TARGET_US} µs (no ucx_perftest here to scale it)`, met: r.value < PUT_NOTIFY_TARGET_US };
      }
    }
    records.push(...mine, ...ceilings);
    log(`ucx bench: ${fabric}: ${mine.length} figures, ${ceilings.length} ucx_perftest ceilings`);
  }
  return { records, failures };
}

// `node dist/bench/ucx.js [--quick] [shm|tcp ...]`: run it on its own, JSON on stdout.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const fabrics = args.filter((a): a is UcxFabric => a === 'shm' || a === 'tcp');
  const result = await runUcxBench({ quick: args.includes('--quick'), perftest: !args.includes('--no-perftest'), ...(fabrics.length ? { fabrics } : {}) });
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
