/**
 * Soak, short version (the 5 minute run is `node dist/bench/reliability/run.js soak`): 8 ranks
 * exchange 1,000,000-float states through ASGD's exchange as fast as they can for 20 s. No error, no
 * torn state accepted (each state carries its checksum), RSS after warm-up grows by less than a bound.
 */
import test from 'ava';
import { taggedLines } from './fixtures/fault-lib.js';
import { uwsMissingReason } from './fixtures/launcher-harness.js';
import { runJob } from './helpers/job.js';

interface Soak { sent: number; sendFailed: number; received: number; checked: number; acceptedBad: number; rssMb: { warmEnd: number; last: number; max: number }; slopeMbPerMin: number; peakRssMb: number }

/** growth allowed from the end of warm-up to the end of the run (a leak of one state per send would be 4 MB each) */
const GROWTH_BOUND_MB = 48;

const missing = uwsMissingReason();
(missing ? test.skip : test.serial)('uws x8: 1,000,000-float states exchanged for 20 s: no error, no torn state accepted, RSS flat after warm-up', async (t) => {
  const r = await runJob({ transport: 'uws', size: 8, fixture: '../../bench/reliability/soak-rank.js', args: ['20'], timeoutMs: 110000 });
  t.deepEqual(r.codes, Array(8).fill(0), r.stderr);
  t.is(taggedLines(r.stdout, 'ERROR').length, 0, r.stdout);
  const ranks = taggedLines<Soak>(r.stdout, 'RESULT');
  t.is(ranks.length, 8, r.stdout + r.stderr);
  let checked = 0;
  for (const { rank, body } of ranks) {
    t.true(body.sent > 0 && body.received > 0, `rank ${rank} exchanged nothing`);
    t.is(body.sendFailed, 0);
    t.is(body.acceptedBad, 0, `rank ${rank} accepted a torn state`);
    t.is(body.checked, body.received);
    t.true(body.rssMb.last - body.rssMb.warmEnd < GROWTH_BOUND_MB, `rank ${rank} grew ${body.rssMb.last - body.rssMb.warmEnd} MiB after warm-up`);
    checked += body.checked;
  }
  const slopes = ranks.map((x) => x.body.slopeMbPerMin);
  t.log(`${ranks.reduce((s, x) => s + x.body.sent, 0)} states sent, ${checked} checked, 0 torn accepted; RSS slope after warm-up ${Math.min(...slopes).toFixed(1)}..${Math.max(...slopes).toFixed(1)} MiB/min; peak RSS ${Math.max(...ranks.map((x) => x.body.peakRssMb)).toFixed(0)} MiB`);
});
