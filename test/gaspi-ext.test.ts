/**
 * GASPI completeness (issue 11): readNotify and the list variants with notifications, Int32/BigInt64
 * and user-defined allreduce, segments bound over the program's memory, segment lists, queues created
 * and deleted at run time, limits, ping and kill, connections, statistics counters — the same fixture
 * on every transport: threads, uws, and ucx where the native addon is usable.
 */
import test from 'ava';
import { ucxUsableInChild } from '../pgas/transports/ucx/probe-child.js';
import { passedRanks, runJob, type JobResult } from './helpers/job.js';

const scenarios = ['readnotify', 'allreduce', 'bind', 'queues', 'stats', 'connect'];

const probe = ucxUsableInChild();
const skipped = probe.usable ? '' : ` [skipped: ${probe.reason}]`;

interface Plan {
  label: string;
  size: number;
  run: (args: string[], env?: Record<string, string>) => Promise<JobResult>;
  native: boolean;
}

const plans: Plan[] = [
  { label: 'threads x3', size: 3, native: false, run: (args, env) => runJob({ transport: 'threads', size: 3, fixture: 'gaspi-ext.js', args, env, timeoutMs: 90000 }) },
  { label: 'threads x2', size: 2, native: false, run: (args, env) => runJob({ transport: 'threads', size: 2, fixture: 'gaspi-ext.js', args, env, timeoutMs: 90000 }) },
  { label: 'uws x3', size: 3, native: false, run: (args, env) => runJob({ transport: 'uws', size: 3, fixture: 'gaspi-ext.js', args, env, timeoutMs: 90000 }) },
  {
    label: 'ucx shm x3', size: 3, native: true,
    // runJob starts one process per rank for any transport but threads; PGAS_TRANSPORT comes from env.
    run: (args, env) => runJob({ transport: 'uws', size: 3, fixture: 'gaspi-ext.js', args, env: { PGAS_TRANSPORT: 'ucx', UCX_TLS: 'posix,sysv,self', ...env }, timeoutMs: 90000 }),
  },
  {
    label: 'ucx tcp x2', size: 2, native: true,
    run: (args, env) => runJob({ transport: 'uws', size: 2, fixture: 'gaspi-ext.js', args, env: { PGAS_TRANSPORT: 'ucx', UCX_TLS: 'tcp,self', ...env }, timeoutMs: 90000 }),
  },
];

for (const plan of plans) {
  const define = plan.native && !probe.usable ? test.serial.skip : test.serial;
  const note = plan.native ? skipped : '';
  for (const name of scenarios) {
    define(`${plan.label}: ${name}${note}`, async (t) => {
      const result = await plan.run([name]);
      t.deepEqual(passedRanks(result, name), Array.from({ length: plan.size }, (_, r) => r), result.stderr);
      t.true(result.codes.every((c) => c === 0), `exit codes ${JSON.stringify(result.codes)}\n${result.stderr}`);
    });
  }

  define(`${plan.label}: ping every rank, kill the last one; it exits 137 and is dead for the others${note}`, async (t) => {
    const result = await plan.run(['pingkill']);
    t.deepEqual(passedRanks(result, 'pingkill'), Array.from({ length: plan.size }, (_, r) => r), result.stderr);
    // threads: one process, which exits with its first failing rank's code
    const expected = plan.label.startsWith('threads') ? [137] : [...Array.from({ length: plan.size - 1 }, () => 0), 137];
    t.deepEqual(result.codes, expected, result.stderr);
    t.regex(result.stderr, new RegExp(`rank ${plan.size - 1} was killed by rank 0`));
  });

  define(`${plan.label}: PGAS_STATS=1 prints one stats record per rank at close${note}`, async (t) => {
    const result = await plan.run(['connect'], { PGAS_STATS: '1' });
    t.true(result.codes.every((c) => c === 0), result.stderr);
    const records = result.stdout.split('\n').filter((l) => l.startsWith('PGAS_STATS ')).map((l) => JSON.parse(l.slice(11)) as { rank: number; peers: { rank: number; sent: { putOps: number } }[] });
    t.deepEqual(records.map((r) => r.rank).sort(), Array.from({ length: plan.size }, (_, r) => r));
    // the connect scenario puts one 8-byte op to the next rank
    // (peers without traffic are left out of the record)
    for (const r of records) t.is(r.peers.find((p) => p.rank === (r.rank + 1) % plan.size)?.sent.putOps, 1);
  });
}
