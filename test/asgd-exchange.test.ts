/**
 * ASGD's state exchange over real PGAS jobs: the window through the transport, non-finite states never
 * merged, newest-only and consume-once slots, and no torn state ever taken while senders overwrite
 * slots as fast as they can (states whose elements all equal the send count).
 */
import test from 'ava';
import { runJob, type TestTransport } from './helpers/job.js';

interface Passed {
  rank: number;
  data: Record<string, number> & { trajectory?: number[] };
}

async function exchangeJob(transport: TestTransport, size: number, args: string[]): Promise<{ passed: Passed[]; stderr: string; codes: (number | null)[] }> {
  const result = await runJob({ transport, size, fixture: 'asgd-exchange.js', args, timeoutMs: 60000 });
  const passed: Passed[] = [];
  for (const line of result.stdout.split('\n')) {
    const m = /^PASS \S+ (\d+) (.*)$/.exec(line.trim());
    if (m) passed.push({ rank: Number(m[1]), data: JSON.parse(m[2]!) as Record<string, number> });
  }
  passed.sort((a, b) => a.rank - b.rank);
  return { passed, stderr: result.stderr, codes: result.codes };
}

for (const size of [2, 4]) {
  test.serial(`threads x${size}: window, non-finite states, newest-only slots, consume-once`, async (t) => {
    const { passed, stderr } = await exchangeJob('threads', size, ['window', '64']);
    t.is(passed.length, size, stderr);
    t.like(passed[0]!.data, { accepted: 3 + size - 1, rejectedWindow: 2, rejectedNonFinite: 3, torn: 0 });
  });
}

test.serial('threads x3: no torn state is ever taken while slots are overwritten concurrently', async (t) => {
  const { passed, stderr } = await exchangeJob('threads', 3, ['torn', String(1 << 17), '2']);
  t.is(passed.length, 3, stderr);
  const total = (key: string): number => passed.reduce((s, p) => s + p.data[key]!, 0);
  t.is(total('bad'), 0, 'a torn state was taken');
  t.true(total('checked') > 100, `states checked: ${total('checked')}`);
  t.log(`states taken ${total('checked')}, copies superseded during the copy ${total('superseded')}, naive copies torn ${total('naiveTorn')} of ${total('naiveReads')}`);
});

test.serial('threads x2: without the window and with a zero gradient the gap shrinks by (1 − ε) per round, the mean stays', async (t) => {
  const { passed, stderr } = await exchangeJob('threads', 2, ['consensus', '16']);
  t.is(passed.length, 2, stderr);
  const [a, b] = [passed[0]!.data.trajectory!, passed[1]!.data.trajectory!];
  for (let r = 0; r < a.length; r++) {
    const gap = a[r]! - b[r]!;
    t.true(Math.abs(gap - 4 * 0.75 ** (r + 1)) < 1e-5, `round ${r}: gap ${gap}, expected ${4 * 0.75 ** (r + 1)}`);
    t.true(Math.abs((a[r]! + b[r]!) / 2 + 1) < 1e-6, `round ${r}: mean ${(a[r]! + b[r]!) / 2}`);
  }
});
