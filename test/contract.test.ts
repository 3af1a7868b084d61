/**
 * The whole PGAS contract, the same scenarios on every transport: real jobs started by the
 * environment contract (one process per rank for uws, one process of rank threads for threads).
 */
import test from 'ava';
import { passedRanks, runJob, type TestTransport } from './helpers/job.js';

const scenarios = ['putget', 'ordering', 'notifyafterdata', 'notifications', 'queuefull', 'errors', 'barrier', 'allreduce', 'groups', 'atomics', 'passive'];

const plans: [TestTransport, number, string[]][] = [
  ['threads', 2, scenarios],
  ['threads', 5, scenarios],
  ['threads', 8, scenarios],
  ['uws', 2, scenarios],
  ['uws', 3, scenarios],
  ['uws', 8, ['putget', 'barrier', 'atomics', 'groups']],
];

for (const [transport, size, names] of plans) {
  for (const name of names) {
    test.serial(`${transport} x${size}: ${name}`, async (t) => {
      const result = await runJob({ transport, size, fixture: 'contract.js', args: [name], timeoutMs: 90000 });
      const expected = Array.from({ length: size }, (_, r) => r);
      t.deepEqual(passedRanks(result, name), expected, result.stderr);
      t.true(result.codes.every((c) => c === 0), `exit codes ${JSON.stringify(result.codes)}\n${result.stderr}`);
    });
  }
}

for (const [transport, size] of [['threads', 3], ['uws', 3]] as const) {
  test.serial(`${transport} x${size}: a rank that dies is seen dead and fails calls, not hangs`, async (t) => {
    const result = await runJob({ transport, size, fixture: 'contract.js', args: ['death'], timeoutMs: 60000 });
    t.deepEqual(passedRanks(result, 'death'), [0, 1], result.stderr);
    if (transport === 'threads') t.deepEqual(result.codes, [7]);
    else t.deepEqual(result.codes, [0, 0, 7]);
  });
}
