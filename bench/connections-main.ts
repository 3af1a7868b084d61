/**
 * Start-up time and open sockets of an N-rank uws job on this host (oversubscribed: N processes on
 * however many cores there are): `node dist/bench/connections-main.js [--ranks N]`. Prints the time
 * until every rank finished init and passed a barrier, and the sockets per process (from
 * /proc/PID/fd), min/median/max. Figures only; nothing passes or fails on them.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { freePort } from '../runtime/launcher/free-port.js';

const args = process.argv.slice(2);
const at = args.indexOf('--ranks');
const size = at >= 0 ? Number(args[at + 1]) : 64;
if (!Number.isInteger(size) || size < 2) {
  process.stderr.write('usage: node dist/bench/connections-main.js [--ranks N>=2]\n');
  process.exit(2);
}
const port = await freePort();
const token = randomBytes(16).toString('hex');
const program = fileURLToPath(new URL('./connections-rank.js', import.meta.url));
const t0 = Date.now();
let stdout = '';
let stderr = '';
const exits = await Promise.all(Array.from({ length: size }, (_, rank) => new Promise<number | null>((resolve) => {
  const child = spawn(process.execPath, [program], {
    env: {
      ...process.env, PGAS_TRANSPORT: 'uws', PGAS_SIZE: String(size), PGAS_RANK: String(rank), PGAS_TOKEN: token,
      PGAS_RENDEZVOUS: `127.0.0.1:${port}`, PGAS_STARTUP_TIMEOUT_MS: '300000', BENCH_SPAWNED_AT: String(t0),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.on('exit', (code) => resolve(code));
})));
const wallMs = Date.now() - t0;
const results = stdout.split('\n').filter((l) => l.startsWith('RESULT ')).map((l) => JSON.parse(l.slice(7)) as { rank: number; initMs: number; readyMs: number; sockets: number; connections: number });
if (results.length !== size) {
  process.stderr.write(`only ${results.length} of ${size} ranks reported; exit codes ${JSON.stringify(exits)}\n${stderr.slice(-3000)}\n`);
  process.exit(1);
}
const stat = (values: number[]): string => {
  const s = [...values].sort((a, b) => a - b);
  return `min ${s[0]} / median ${s[Math.floor(s.length / 2)]} / max ${s[s.length - 1]}`;
};
console.log(`uws, ${size} ranks on one host (eager connections: every rank connects to every other at start)`);
console.log(`  all ranks ready (init + barrier): ${Math.max(...results.map((r) => r.readyMs))} ms after spawn; job wall time ${wallMs} ms`);
console.log(`  init per rank (ms): ${stat(results.map((r) => r.initMs))}`);
console.log(`  sockets per process: ${stat(results.map((r) => r.sockets))}; total ${results.reduce((a, r) => a + r.sockets, 0)}`);
