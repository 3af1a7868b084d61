/**
 * pgas-run --stats: ranks print their statistics record at close and the launcher's summary ends with
 * every rank's counters (the records themselves are not forwarded as output lines).
 */
import test from 'ava';
import { runLauncher, uwsMissingReason } from './fixtures/launcher-harness.js';

for (const transport of ['threads', 'uws'] as const) {
  const missing = transport === 'uws' ? uwsMissingReason() : undefined;
  const define = missing ? test.serial.skip : test.serial;
  define(`pgas-run --stats on ${transport}: the summary lists each rank's traffic${missing ? ` (skipped: ${missing})` : ''}`, async (t) => {
    // the connect scenario: each rank puts one 8-byte op to the next rank
    const r = await runLauncher(['-n', '2', '--transport', transport, '--stats', 'test/fixtures/gaspi-ext.ts', 'connect']);
    t.is(r.code, 0, r.stderr);
    t.regex(r.stdout, /^\[0(-1)?\] PASS connect 0$/m);
    t.notRegex(r.stdout, /PGAS_STATS/, 'records are collected, not printed');
    for (const rank of [0, 1]) {
      t.regex(r.stderr, new RegExp(`^pgas-run: stats rank ${rank} \\[${transport}\\]: waits \\d+`, 'm'), r.stderr);
    }
    // both ranks sent exactly one user put of 8 bytes and received one
    t.is(r.stderr.match(/^pgas-run: stats {3}sent: {5}put 1 \(8 B\)/gm)?.length, 2, r.stderr);
    t.is(r.stderr.match(/^pgas-run: stats {3}received: put 1 \(8 B\)/gm)?.length, 2, r.stderr);
  });
}

test.serial('pgas-run without --stats prints no statistics', async (t) => {
  const r = await runLauncher(['-n', '2', '--transport', 'threads', 'test/fixtures/gaspi-ext.ts', 'connect']);
  t.is(r.code, 0, r.stderr);
  t.notRegex(r.stderr, /pgas-run: stats/);
});
