/**
 * Backpressure, short version (the 60 s run is `node dist/bench/reliability/run.js flood`): rank 0
 * floods 64 KiB puts at rank 1 for 5 s while rank 1's JavaScript is busy in 200 ms spells. The queue
 * depth limit (64 here) stops the sender with QueueFullError, which it answers with wait(); both
 * ranks' peak RSS stays bounded; every target slot holds exactly the last completed put aimed at it.
 */
import test from 'ava';
import { taggedLines } from './fixtures/fault-lib.js';
import { uwsMissingReason } from './fixtures/launcher-harness.js';
import { runJob } from './helpers/job.js';

interface Sender { completed: number; queueFull: number; peakRssMb: number; mbPerSecond: number }
interface Target { busySpells: number; slotsVerified: number; slotsBad: number; peakRssMb: number }

/** generous: the segments are 16 MiB; a sender that buffered its flood would pass this within a second */
const RSS_BOUND_MB = 400;

const missing = uwsMissingReason();
(missing ? test.skip : test.serial)('uws: a flood of puts at a busy rank is held back by queue-full waits, memory stays bounded, nothing completed is lost', async (t) => {
  const r = await runJob({ transport: 'uws', size: 2, fixture: '../../bench/reliability/flood-rank.js', args: ['5'], env: { PGAS_CONFIG: '{"queueDepth":64}' }, timeoutMs: 90000 });
  t.deepEqual(r.codes, [0, 0], r.stderr);
  const sender = taggedLines<Sender>(r.stdout, 'RESULT').find((x) => x.rank === 0)?.body;
  const target = taggedLines<Target>(r.stdout, 'RESULT').find((x) => x.rank === 1)?.body;
  t.truthy(sender && target, r.stdout + r.stderr);
  if (!sender || !target) return;
  t.true(sender.completed > 256, `only ${sender.completed} puts`);
  t.true(sender.queueFull > 0, 'the queue never filled: the limit was not exercised');
  t.true(target.busySpells >= 5, 'the target was not busy');
  t.is(target.slotsBad, 0);
  t.is(target.slotsVerified, 256);
  t.true(sender.peakRssMb < RSS_BOUND_MB, `sender peak RSS ${sender.peakRssMb} MiB`);
  t.true(target.peakRssMb < RSS_BOUND_MB, `target peak RSS ${target.peakRssMb} MiB`);
  t.log(`${sender.completed} puts (${sender.mbPerSecond.toFixed(0)} MiB/s), ${sender.queueFull} queue-full waits; peak RSS sender ${sender.peakRssMb.toFixed(0)} MiB, target ${target.peakRssMb.toFixed(0)} MiB; 256/256 slots intact`);
});
