/**
 * A rank whose network disappears: ranks 0 and 1 run in one network namespace, rank 2 in another,
 * joined by a veth pair; mid-asgd the test takes rank 2's link down (the process lives on, its
 * connections just go silent, nothing closes). The heartbeat on the bootstrap connection declares it
 * dead; ranks 0 and 1 stop sending to it, finish their run among themselves and exit 0 — no survivor
 * hangs. The heartbeat period here is 100 ms (PGAS_HEARTBEAT_MS), so the bound is 16 × 100 ms = 1.6 s
 * plus a timer period; at the default 500 ms it is 8 s. Run on uws, and on ucx (over TCP) when usable.
 */
import test, { type ExecutionContext } from 'ava';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { syntheticOptimum, type SyntheticArgs } from '../runtime/asgd/problems/synthetic.js';
import { distance } from './fixtures/asgd-lib.js';
import { probeUcx, specArg, taggedLines } from './fixtures/fault-lib.js';
import { baseEnv, uwsMissingReason } from './fixtures/launcher-harness.js';
import { fixturePath } from './helpers/job.js';
import { createNetnsPair, netnsUnavailableReason } from './helpers/netns.js';

const LSQ: SyntheticArgs = { kind: 'leastsq', rows: 512, dim: 16, l2: 0.01, noise: 0.1 };
const HEARTBEAT_MS = 100;

interface Death { rank: number; seenAt: number; step: number; sent: number; sendFailed: number }
interface Result { steps: number; params: number[]; counters: Record<string, number>; deaths: Death[]; health: string[]; summary: { lostRanks?: number[] } }

interface Rank { child: ChildProcess; out: string; err: string; exit: Promise<number | null> }

function startRank(ns: string, rank: number, env: NodeJS.ProcessEnv, args: string[]): Rank {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, fixturePath('fault-solver.js'), ...args], { env: { ...env, PGAS_RANK: String(rank) }, stdio: ['ignore', 'pipe', 'pipe'] });
  const r: Rank = { child, out: '', err: '', exit: new Promise((resolve) => child.once('close', (code) => resolve(code))) };
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (r.out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (r.err += d));
  return r;
}

async function until(check: () => boolean, ms: number, what: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function linkDown(t: ExecutionContext, transport: 'uws' | 'ucx', subnet: string): Promise<void> {
  const pair = createNetnsPair(`flt${transport}${process.pid % 10000}`, subnet);
  const ranks: Rank[] = [];
  t.teardown(() => { for (const r of ranks) r.child.kill('SIGKILL'); pair.destroy(); });
  const spec = specArg({ problem: LSQ, config: { solver: 'asgd', optimizer: { name: 'sgd', lr: 0.05 }, batchSize: 8, seed: 7, stop: { seconds: 8 } }, signalStep: 300 });
  const common = baseEnv({
    PGAS_TRANSPORT: transport, PGAS_SIZE: '3', PGAS_RENDEZVOUS: `${pair.a.address}:40123`, PGAS_TOKEN: randomBytes(16).toString('hex'),
    PGAS_HEARTBEAT_MS: String(HEARTBEAT_MS), PGAS_STARTUP_TIMEOUT_MS: '40000', ...(transport === 'ucx' ? { UCX_TLS: 'tcp,self' } : {}),
  });
  const at = (host: { address: string }): NodeJS.ProcessEnv => ({ ...common, PGAS_LISTEN_HOST: host.address, PGAS_ADVERTISE_HOST: host.address });
  ranks.push(startRank(pair.a.name, 0, at(pair.a), [spec]));
  ranks.push(startRank(pair.a.name, 1, at(pair.a), [spec]));
  ranks.push(startRank(pair.b.name, 2, at(pair.b), [spec]));
  await until(() => /^STEP 2 /m.test(ranks[2]!.out), 60000, () => `rank 2 to train:\n${ranks.map((r) => r.out + r.err).join('\n')}`);
  const downAt = Date.now();
  execFileSync('ip', ['-n', pair.b.name, 'link', 'set', 'veth-b', 'down']);

  // the survivors end on their own (a generous hang-catcher, not a timing claim)
  const codes = await Promise.race([
    Promise.all([ranks[0]!.exit, ranks[1]!.exit]),
    new Promise<null>((r) => setTimeout(() => r(null), 60000)),
  ]);
  t.truthy(codes, `a survivor hung:\n${ranks[0]!.out}\n${ranks[0]!.err}\n${ranks[1]!.out}\n${ranks[1]!.err}`);
  t.deepEqual(codes, [0, 0], `${ranks[0]!.err}\n${ranks[1]!.err}`);
  const detection: number[] = [];
  for (const rank of [0, 1]) {
    const [result] = taggedLines<Result>(ranks[rank]!.out, 'RESULT');
    t.truthy(result, ranks[rank]!.out + ranks[rank]!.err);
    if (!result) continue;
    const death = result.body.deaths.find((d) => d.rank === 2);
    t.truthy(death, `rank ${rank} never saw rank 2 dead`);
    if (!death) continue;
    detection.push(death.seenAt - downAt);
    t.true(death.seenAt - downAt < 10 * 16 * HEARTBEAT_MS, `rank ${rank}: ${death.seenAt - downAt} ms`);
    t.true(result.body.steps > death.step);
    t.true(result.body.counters.sendFailed! - death.sendFailed <= 1);
    t.true(distance(Float32Array.from(result.body.params), syntheticOptimum(LSQ)) < 0.1);
  }
  t.deepEqual(taggedLines<Result>(ranks[0]!.out, 'RESULT')[0]?.body.summary.lostRanks, [2]);
  t.log(`${transport}: link down seen as a death after ${detection.join(', ')} ms (heartbeat ${HEARTBEAT_MS} ms x 16)`);
}

const missing = netnsUnavailableReason() ?? uwsMissingReason();
if (missing) test.skip(`uws: network loss (skipped: ${missing})`, () => {});
else test.serial('uws: a rank whose link goes down is declared dead by heartbeat; survivors finish, none hangs', (t) => linkDown(t, 'uws', '10.78.1'));

const ucx = probeUcx();
const ucxMissing = missing ?? (ucx.usable ? undefined : ucx.reason);
if (ucxMissing) test.skip(`ucx: network loss (skipped: ${ucxMissing})`, () => {});
else test.serial('ucx (tcp): a rank whose link goes down is declared dead by heartbeat; survivors finish, none hangs', (t) => linkDown(t, 'ucx', '10.78.2'));
