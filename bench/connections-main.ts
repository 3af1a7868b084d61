/**
 * Start-up time and open sockets of an N-rank uws job on this host (oversubscribed: N processes on
 * however many cores there are), with lazy and eager data links side by side in one run:
 * `node dist/bench/connections-main.js [--ranks N] [--connections lazy|eager|both|LIST]` (default 64,
 * both = lazy,eager; LIST: modes in the order to run them, e.g. eager,lazy or lazy,eager,lazy,eager,
 * since on a loaded machine the order matters).
 * For each mode: the time until every rank finished init, and until every rank passed a barrier; the
 * sockets and data links per process after that barrier (from /proc/PID/fd), min/median/max; the load
 * average around the run. Figures only; nothing passes or fails on them.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { freePort } from '../runtime/launcher/free-port.js';

type Mode = 'lazy' | 'eager';

interface RankResult {
  rank: number;
  initMs: number;
  readyMs: number;
  sockets: number;
  links: number;
}

interface ModeResult {
  mode: Mode;
  initMs: number;
  readyMs: number;
  wallMs: number;
  sockets: number[];
  links: number[];
  load: string;
}

function usage(): never {
  process.stderr.write('usage: node dist/bench/connections-main.js [--ranks N>=2] [--connections lazy|eager|both|eager,lazy,...]\n');
  process.exit(2);
}

function option(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  if (at < 0) return undefined;
  return args[at + 1] ?? usage();
}

const args = process.argv.slice(2);
const size = Number(option(args, '--ranks') ?? 64);
const which = option(args, '--connections') ?? 'both';
if (!Number.isInteger(size) || size < 2) usage();
const modes = (which === 'both' ? 'lazy,eager' : which).split(',') as Mode[];
if (modes.some((m) => m !== 'lazy' && m !== 'eager')) usage();

const load = (): string => loadavg().map((l) => l.toFixed(1)).join(' ');

async function runJob(mode: Mode): Promise<ModeResult> {
  const port = await freePort();
  const token = randomBytes(16).toString('hex');
  const program = fileURLToPath(new URL('./connections-rank.js', import.meta.url));
  const loadBefore = load();
  const t0 = Date.now();
  let stdout = '';
  let stderr = '';
  const exits = await Promise.all(Array.from({ length: size }, (_, rank) => new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, [program], {
      env: {
        ...process.env, PGAS_TRANSPORT: 'uws', PGAS_SIZE: String(size), PGAS_RANK: String(rank), PGAS_TOKEN: token,
        PGAS_RENDEZVOUS: `127.0.0.1:${port}`, PGAS_STARTUP_TIMEOUT_MS: '300000', BENCH_SPAWNED_AT: String(t0),
        PGAS_CONNECTIONS: mode,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve(code));
  })));
  const wallMs = Date.now() - t0;
  const results = stdout.split('\n').filter((l) => l.startsWith('RESULT ')).map((l) => JSON.parse(l.slice(7)) as RankResult);
  if (results.length !== size) {
    process.stderr.write(`${mode}: only ${results.length} of ${size} ranks reported; exit codes ${JSON.stringify(exits)}\n${stderr.slice(-3000)}\n`);
    process.exit(1);
  }
  return {
    mode,
    initMs: Math.max(...results.map((r) => r.initMs)),
    readyMs: Math.max(...results.map((r) => r.readyMs)),
    wallMs,
    sockets: results.map((r) => r.sockets),
    links: results.map((r) => r.links),
    load: `${loadBefore} -> ${load()}`,
  };
}

const stat = (values: number[]): string => {
  const s = [...values].sort((a, b) => a - b);
  return `${s[0]} / ${s[Math.floor(s.length / 2)]} / ${s[s.length - 1]}`;
};
const sum = (values: number[]): number => values.reduce((a, v) => a + v, 0);

console.log(`uws, ${size} ranks on one host; modes in this order: ${modes.join(', ')}`);
const done: ModeResult[] = [];
for (const mode of modes) {
  const r = await runJob(mode);
  done.push(r);
  console.log(`${mode}:`);
  console.log(`  every rank through init: ${r.initMs} ms after spawn; through init + barrier: ${r.readyMs} ms; job wall time ${r.wallMs} ms`);
  console.log(`  after the barrier, per process (min / median / max): data links ${stat(r.links)}; sockets ${stat(r.sockets)}; total sockets ${sum(r.sockets)}`);
  console.log(`  load average (1/5/15 min) before -> after: ${r.load}`);
}
const mean = (mode: Mode, value: (r: ModeResult) => number): number => {
  const runs = done.filter((r) => r.mode === mode);
  return sum(runs.map(value)) / runs.length;
};
if (modes.includes('lazy') && modes.includes('eager')) {
  const ratio = (value: (r: ModeResult) => number): string => (mean('lazy', value) / mean('eager', value)).toFixed(2);
  console.log(`lazy / eager (means over the runs of each): init ${ratio((r) => r.initMs)}, init + barrier ${ratio((r) => r.readyMs)}, total sockets ${ratio((r) => sum(r.sockets))}`);
}
