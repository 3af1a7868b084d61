/**
 * The pgas benchmark runs end to end and writes a complete JSON report. No timing is asserted:
 * benchmarks report figures, they never pass or fail on time.
 */
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBenchCli as runCli } from './helpers/bench-cli.js';

interface BenchRecord {
  transport: string;
  op: string;
  bytes: number;
  metric: string;
  value: number;
  iterations: number;
  ratio_to_baseline?: number;
  baseline?: string;
}

test('pgas --transport threads --quick writes every op/size record with positive finite figures', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pgas-bench-'));
  try {
    const file = join(dir, 'out.json');
    const run = await runCli(['pgas', '--transport', 'threads', '--quick', '--json', file]);
    t.is(run.code, 0, run.stderr);
    const records = JSON.parse(readFileSync(file, 'utf8')) as BenchRecord[];
    t.true(Array.isArray(records));
    const keys = new Set(records.map((r) => `${r.transport} ${r.op} ${r.metric} ${r.bytes}`));
    const expected = [
      'threads put latency_us 8',
      'threads get latency_us 8',
      ...['put', 'get'].flatMap((op) => [4096, 65536, 1 << 20, 4 << 20].map((b) => `threads ${op} bandwidth_GBps ${b}`)),
      'threads putNotify rtt_us 8',
      'threads putNotify one_way_us 8',
      'threads barrier latency_us 0',
      'threads allreduce latency_us 8',
      `threads allreduce latency_us ${4 << 20}`,
      `baseline memcpy bandwidth_GBps ${4 << 20}`,
    ];
    for (const k of expected) t.true(keys.has(k), `missing record: ${k}`);
    for (const r of records) {
      t.true(Number.isFinite(r.value) && r.value > 0, `${r.op} ${r.metric} ${r.bytes}: value ${r.value}`);
      t.true(Number.isInteger(r.iterations) && r.iterations > 0, `${r.op} ${r.metric} ${r.bytes}: iterations ${r.iterations}`);
      t.true(['threads', 'baseline'].includes(r.transport), `transport ${r.transport}`);
      if (r.ratio_to_baseline !== undefined) {
        t.true(Number.isFinite(r.ratio_to_baseline) && r.ratio_to_baseline > 0, `${r.op} ratio ${r.ratio_to_baseline}`);
        t.is(typeof r.baseline, 'string');
      }
    }
    const put4m = records.find((r) => r.transport === 'threads' && r.op === 'put' && r.metric === 'bandwidth_GBps' && r.bytes === 4 << 20);
    t.is(put4m?.baseline, `memcpy bandwidth_GBps ${4 << 20} B`, 'the threads 4 MiB put is set beside memcpy');
    // the readable table and the verdict are on stdout
    t.regex(run.stdout, /threads\s+put\s+4 MiB\s+bandwidth/);
    t.regex(run.stdout, /Verdict/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bench argument errors exit with status 2 and say what was wrong', async (t) => {
  const cases: [string[], RegExp][] = [
    [['nosuch'], /unknown subcommand 'nosuch'/],
    [[], /missing subcommand/],
    [['pgas', '--bogus'], /unknown option '--bogus'/],
    [['pgas', '--transport', 'carrier-pigeon'], /unknown transport 'carrier-pigeon'/],
    [['pgas', '--transport'], /--transport needs a value/],
    [['pgas', '--json'], /--json needs a value/],
    [['pgas', 'extra'], /unknown argument 'extra'/],
  ];
  for (const [args, message] of cases) {
    const run = await runCli(args, 30_000);
    t.is(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    t.regex(run.stderr, message, args.join(' '));
    t.regex(run.stderr, /usage:/, args.join(' '));
  }
});
