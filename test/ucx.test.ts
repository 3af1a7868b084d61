/**
 * The native UCX transport (pgas/transports/ucx, pgas/native): the contract suite over shared memory
 * (UCX_TLS=posix,sysv,self) and over TCP loopback (UCX_TLS=tcp,self), a target that is busy in a
 * synchronous loop, a peer killed with SIGKILL, segment memory given back, and transport selection.
 * Tests that need the addon skip, saying why, where it is not built (no libucx-dev).
 */
import test from 'ava';
import { ucxUsableInChild } from '../pgas/transports/ucx/probe-child.js';
import { passedRanks, runJob, type JobResult } from './helpers/job.js';

const probe = ucxUsableInChild();
const native = probe.usable ? test.serial : test.serial.skip;
const skipped = probe.usable ? '' : ` [skipped: ${probe.reason}]`;

const fabrics = [
  ['shm', 'posix,sysv,self'],
  ['tcp', 'tcp,self'],
] as const;

const ucx = (tls: string, extra: Record<string, string> = {}): Record<string, string> => ({
  PGAS_TRANSPORT: 'ucx',
  UCX_TLS: tls,
  // loopback only: without it UCX's tcp transport also opens lanes over eth0
  ...(tls.includes('tcp') ? { UCX_NET_DEVICES: 'lo' } : {}),
  ...extra,
});

function results(result: JobResult): Record<string, unknown>[] {
  return result.stdout.split('\n').filter((l) => l.startsWith('RESULT ')).map((l) => JSON.parse(l.slice(7)) as Record<string, unknown>);
}

const scenarios = ['putget', 'ordering', 'notifyafterdata', 'notifications', 'queuefull', 'errors', 'barrier', 'allreduce', 'groups', 'atomics', 'passive'];

for (const [fabric, tls] of fabrics) {
  for (const name of scenarios) {
    native(`ucx ${fabric} x3: ${name}${skipped}`, async (t) => {
      // runJob starts one process per rank for any transport but threads; PGAS_TRANSPORT comes from env.
      const result = await runJob({ transport: 'uws', size: 3, fixture: 'contract.js', args: [name], env: ucx(tls), timeoutMs: 90000 });
      t.deepEqual(passedRanks(result, name), [0, 1, 2], result.stderr);
      t.true(result.codes.every((c) => c === 0), `exit codes ${JSON.stringify(result.codes)}\n${result.stderr}`);
    });
  }

  native(`ucx ${fabric} x3: a rank that dies is seen dead and fails calls, not hangs${skipped}`, async (t) => {
    const result = await runJob({ transport: 'uws', size: 3, fixture: 'contract.js', args: ['death'], env: ucx(tls), timeoutMs: 60000 });
    t.deepEqual(passedRanks(result, 'death'), [0, 1], result.stderr);
    t.deepEqual(result.codes, [0, 0, 7], result.stderr);
  });

  native(`ucx ${fabric}: a rank busy in a 2 s synchronous loop is written and read meanwhile${skipped}`, async (t) => {
    const result = await runJob({ transport: 'uws', size: 2, fixture: 'ucx-busy.js', env: ucx(tls), timeoutMs: 60000 });
    t.deepEqual(passedRanks(result, 'busy'), [0, 1], result.stderr);
    const [writer, target] = [results(result).find((r) => r.rank === 0)!, results(result).find((r) => r.rank === 1)!];
    t.log(JSON.stringify({ writer, target }));
    // The loop runs 2000 ms from the writer's start signal; everything must finish long before.
    t.true((writer.putMs as number) < 1000, `put wait took ${String(writer.putMs)} ms`);
    t.true((writer.getMs as number) < 1000, `get wait took ${String(writer.getMs)} ms`);
    t.true((target.putSeenMs as number) >= 0 && (target.putSeenMs as number) < 1500, `the put landed at ${String(target.putSeenMs)} ms into the loop`);
  });

  native(`ucx ${fabric}: a peer killed by SIGKILL during a stream of puts fails them with the peer-dead error within 5 s${skipped}`, async (t) => {
    const result = await runJob({ transport: 'uws', size: 2, fixture: 'ucx-kill.js', env: ucx(tls), timeoutMs: 60000 });
    t.deepEqual(passedRanks(result, 'kill'), [0], result.stderr);
    t.deepEqual(result.signals, [null, 'SIGKILL']);
    t.is(result.codes[0], 0, result.stderr);
    const killed = Number(/^KILL (\d+)/m.exec(result.stdout)?.[1]);
    const dead = Number(/^DEAD (\d+)/m.exec(result.stdout)?.[1]);
    t.log(`peer-dead error ${dead - killed} ms after the SIGKILL (${/^DEAD \d+ (.*)$/m.exec(result.stdout)?.[1] ?? ''})`);
    t.true(dead - killed >= 0 && dead - killed < 5000, `the peer-dead error came ${dead - killed} ms after the kill`);
  });

  native(`ucx ${fabric}: 1,000 segment create/delete cycles leave resident memory flat${skipped}`, async (t) => {
    const result = await runJob({ transport: 'uws', size: 2, fixture: 'ucx-rss.js', args: ['1000'], env: ucx(tls), timeoutMs: 110000 });
    t.deepEqual(passedRanks(result, 'rss'), [0, 1], result.stderr);
    for (const r of results(result)) {
      const samples = r.rssMiB as number[];
      t.log(`rank ${String(r.rank)}: RSS every 100 cycles (MiB) ${samples.join(' ')}`);
      // 1,000 MiB of segments went through; a leak would show as hundreds of MiB.
      t.true(Math.max(...samples) - Math.min(...samples) < 128, `RSS ranged over ${Math.max(...samples) - Math.min(...samples)} MiB`);
    }
  });
}

test.serial('transport auto: picks ucx where the addon is built and UCX starts, uws otherwise, and says which', async (t) => {
  const result = await runJob({ transport: 'uws', size: 2, fixture: 'ucx-auto.js', env: { PGAS_TRANSPORT: 'auto' }, timeoutMs: 60000 });
  t.deepEqual(passedRanks(result, 'auto'), [0, 1], result.stderr);
  const expected = probe.usable ? 'ucx' : 'uws';
  t.is(result.stdout.match(new RegExp(`^TRANSPORT ${expected}$`, 'gm'))?.length, 2, result.stdout);
  t.regex(result.stderr, new RegExp(`pgas: rank 0: transport auto chose ${expected}`));
});

test.serial('transport auto with the addon absent (PGAS_NATIVE_DISABLE=1) falls back to uws and says so', async (t) => {
  const result = await runJob({ transport: 'uws', size: 2, fixture: 'ucx-auto.js', env: { PGAS_TRANSPORT: 'auto', PGAS_NATIVE_DISABLE: '1' }, timeoutMs: 60000 });
  t.deepEqual(passedRanks(result, 'auto'), [0, 1], result.stderr);
  t.is(result.stdout.match(/^TRANSPORT uws$/gm)?.length, 2, result.stdout);
  t.regex(result.stderr, /transport auto chose uws: ucx is unavailable \(.*PGAS_NATIVE_DISABLE=1/);
});

test.serial('transport ucx with the addon absent fails with an error that names the missing package', async (t) => {
  const result = await runJob({ transport: 'uws', size: 1, fixture: 'ucx-auto.js', env: { PGAS_TRANSPORT: 'ucx', PGAS_NATIVE_DISABLE: '1' }, timeoutMs: 30000 });
  t.not(result.codes[0], 0);
  t.regex(result.stderr, /ConfigError: PGAS_TRANSPORT=ucx is unavailable: .*libucx-dev/);
});
