/**
 * The long reliability runs whose figures RELIABILITY.md reports (the tests run short versions):
 *
 *   node dist/bench/reliability/run.js flood  [seconds=60]  [--transport uws|ucx]
 *   node dist/bench/reliability/run.js soak   [seconds=300] [--transport uws|ucx]
 *   node dist/bench/reliability/run.js notify [distinct=1000000] [shared=1000000] [--transport uws|ucx]
 *
 * Each starts its rank program (bench/reliability/*-rank.ts) with pgas-run, prints every rank's
 * RESULT line and a short summary, and exits non-zero when a rank failed or a check did not hold.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const args = process.argv.slice(2);
const at = args.indexOf('--transport');
const transport = at >= 0 ? args.splice(at, 2)[1]! : 'uws';
const [what, ...rest] = args;

interface Job { ranks: number; program: string; args: string[]; env?: string[] }

function runPgas(job: Job): Promise<{ code: number | null; results: Record<string, unknown>[] }> {
  const argv = [join(ROOT, 'bin', 'pgas-run.js'), '-n', String(job.ranks), '--transport', transport, ...(job.env ?? []).flatMap((e) => ['-x', e]), join(ROOT, 'dist', 'bench', 'reliability', job.program), ...job.args];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; process.stdout.write(d); });
    child.on('close', (code) => {
      const results = [...out.matchAll(/^\[\d+\] RESULT (\d+) (.*)$/gm)].map((m) => ({ rank: Number(m[1]), ...(JSON.parse(m[2]!) as Record<string, unknown>) }));
      resolve({ code, results: results.sort((a, b) => (a.rank as number) - (b.rank as number)) });
    });
  });
}

function check(ok: boolean, what: string): boolean {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  return ok;
}

async function flood(seconds: number): Promise<boolean> {
  const { code, results } = await runPgas({ ranks: 2, program: 'flood-rank.js', args: [String(seconds)], env: ['PGAS_CONFIG={"queueDepth":64}'] });
  const [s, t] = results as [Record<string, number>, Record<string, number>];
  if (!s || !t) return check(false, `flood: pgas-run exited ${code} without both results`);
  console.log(`flood ${transport} ${seconds} s: ${s.completed} puts of ${s.putBytes} B (${s.mbPerSecond!.toFixed(1)} MiB/s), ${s.queueFull} queue-full waits; peak RSS sender ${s.peakRssMb!.toFixed(1)} MiB, target ${t.peakRssMb!.toFixed(1)} MiB; slots ${t.slotsVerified} intact, ${t.slotsBad} bad`);
  return check(code === 0 && t.slotsBad === 0 && t.slotsVerified === 256, 'every completed put is in the target byte for byte');
}

async function soak(seconds: number): Promise<boolean> {
  const { code, results } = await runPgas({ ranks: 8, program: 'soak-rank.js', args: [String(seconds)] });
  const rs = results as unknown as Array<{ sent: number; received: number; acceptedBad: number; tornDetected: number; sendFailed: number; slopeMbPerMin: number; peakRssMb: number; rssMb: { warmEnd: number; last: number } }>;
  if (rs.length !== 8) return check(false, `soak: ${rs.length}/8 results, pgas-run exited ${code}`);
  const slopes = rs.map((r) => r.slopeMbPerMin.toFixed(2));
  console.log(`soak ${transport} ${seconds} s x8: ${rs.reduce((a, r) => a + r.sent, 0)} states of 1,000,000 floats sent, ${rs.reduce((a, r) => a + r.received, 0)} received; torn detected and refused ${rs.reduce((a, r) => a + r.tornDetected, 0)}, torn accepted ${rs.reduce((a, r) => a + r.acceptedBad, 0)}`);
  console.log(`  RSS slope after warm-up (MiB/min) per rank: ${slopes.join(', ')}; growth after warm-up ${rs.map((r) => (r.rssMb.last - r.rssMb.warmEnd).toFixed(1)).join(', ')} MiB; peak RSS ${Math.max(...rs.map((r) => r.peakRssMb)).toFixed(1)} MiB`);
  return check(code === 0 && rs.every((r) => r.acceptedBad === 0 && r.sendFailed === 0), 'no error, no torn state accepted');
}

async function notify(distinct: number, shared: number): Promise<boolean> {
  const { code, results } = await runPgas({ ranks: 8, program: 'notify-rank.js', args: [String(distinct), String(shared)] });
  const rs = results as unknown as Array<{ distinct: Record<string, number>; shared: Record<string, number> }>;
  if (rs.length !== 8) return check(false, `notify: ${rs.length}/8 results, pgas-run exited ${code}`);
  const sum = (f: (r: (typeof rs)[number]) => number): number => rs.reduce((a, r) => a + f(r), 0);
  console.log(`notify ${transport} x8: distinct ids ${sum((r) => r.distinct.sent!)} sent, ${sum((r) => r.distinct.received!)} received, ${sum((r) => r.distinct.lost!)} lost (${Math.max(...rs.map((r) => r.distinct.seconds!)).toFixed(1)} s); shared ids: ${sum((r) => r.shared.fetchAdds!)} fetchAdds + notifications, counters hold ${sum((r) => r.shared.countedHere!)}, mismatched counters ${sum((r) => r.shared.counterMismatch!)}, old-value sets wrong ${sum((r) => r.shared.oldValueMismatch!)}, shared ids unset ${sum((r) => r.shared.sharedIdsUnset!)} (${Math.max(...rs.map((r) => r.shared.seconds!)).toFixed(1)} s)`);
  return check(code === 0 && sum((r) => r.distinct.lost! + r.shared.counterMismatch! + r.shared.oldValueMismatch! + r.shared.sharedIdsUnset!) === 0 && sum((r) => r.shared.countedHere!) === shared, 'none lost');
}

let ok: boolean;
if (what === 'flood') ok = await flood(Number(rest[0] ?? 60));
else if (what === 'soak') ok = await soak(Number(rest[0] ?? 300));
else if (what === 'notify') ok = await notify(Number(rest[0] ?? 1_000_000), Number(rest[1] ?? 1_000_000));
else {
  console.error('usage: node dist/bench/reliability/run.js flood|soak|notify [numbers] [--transport uws|ucx]');
  process.exit(2);
}
process.exitCode = ok ? 0 : 1;
