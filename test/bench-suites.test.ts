/**
 * Every benchmark suite, run through the CLI in its quick mode (narrowed further where a suite has
 * many parts), writes a results.json with the machine/version/command record on every record, SVG
 * plots that are well-formed XML, and a REPORT.md beside them that lists each suite and links its
 * plots. Figures are not asserted (the machine is shared); their presence and form are.
 */
import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkXml } from '../bench/xml-check.js';
import { runBenchCli as runCli } from './helpers/bench-cli.js';

const root = mkdtempSync(join(tmpdir(), 'bench-suites-'));
test.after.always(() => rmSync(root, { recursive: true, force: true }));

interface ResultFile {
  suite: string;
  title: string;
  quick: boolean;
  run: { machine: { cores: number; cpuModel: string; node: string }; transport: string; command: string; argv: string[] };
  tables: { title: string; header: string[]; rows: string[][] }[];
  plots: { file: string; title: string }[];
  records: { run: { machine: { cores: number }; command: string; transport: string } }[];
  notes: string[];
}

const SUITES: [string, string[]][] = [
  ['pgas', ['--transport', 'threads']],
  ['kernels', []],
  ['scaling', ['--ranks', '1,2', '--solvers', 'asgd,hogwild']],
  ['convergence', ['--solvers', 'asgd,sync', '--seeds', '2', '--time-budget', '1']],
  ['ablation', ['--ranks', '2', '--seeds', '1']],
  ['sources', ['--seeds', '1', '--ranks', '2', '--time-budget', '1']],
  ['terabyte', ['--size', '10GB', '--time-budget', '2']],
];

for (const [suite, extra] of SUITES) {
  test.serial(`${suite} --quick writes well-formed JSON and SVG and is listed in the report`, async (t) => {
    t.timeout(400_000);
    const out = join(root, suite);
    const run = await runCli([suite, '--quick', '--out', out, ...extra], 390_000);
    t.is(run.code, 0, run.stderr.slice(-3000));
    const result = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as ResultFile;
    t.is(result.suite, suite);
    t.true(result.quick);
    t.true(result.run.machine.cores >= 1);
    t.is(typeof result.run.machine.cpuModel, 'string');
    t.is(result.run.machine.node, process.version);
    t.regex(result.run.command, new RegExp(`^npm run bench -- ${suite} --quick --out `));
    t.true(result.tables.length > 0, 'at least one table');
    for (const table of result.tables) {
      t.true(table.rows.length > 0, `table '${table.title}' has rows`);
      for (const row of table.rows) t.is(row.length, table.header.length, `table '${table.title}': row width`);
    }
    t.true(result.records.length > 0, 'raw records');
    for (const r of result.records) {
      t.is(r.run.machine.cores, result.run.machine.cores, 'every record carries the machine');
      t.is(r.run.command, result.run.command, 'every record carries the command');
      t.is(typeof r.run.transport, 'string');
    }
    t.true(result.plots.length > 0, 'at least one plot');
    for (const plot of result.plots) {
      const svg = readFileSync(join(out, plot.file), 'utf8');
      const check = checkXml(svg);
      t.deepEqual(check.problems, [], `${plot.file} is well-formed`);
      t.is(check.root, 'svg');
      t.true(/<(path|rect|circle)\b/.test(svg), `${plot.file} draws something`);
    }
    if (suite === 'scaling') {
      // both workloads by default; LeNet only where Fashion-MNIST is installed (else a note says why not)
      t.true(result.tables.some((x) => x.title.startsWith('K-Means strong scaling')), 'the K-Means table');
      const lenet = result.tables.find((x) => x.title.startsWith('LeNet strong scaling'));
      if (lenet) t.deepEqual(lenet.rows.map((r) => [r[0], r[1]]), [['asgd', '1'], ['asgd', '2'], ['hogwild', '1 threads'], ['hogwild', '2 threads']]);
      else t.true(result.notes.some((n) => /LeNet strong scaling was not run: Fashion-MNIST is not installed/.test(n)), 'no LeNet table without a note saying why');
    }
    const report = readFileSync(join(root, 'REPORT.md'), 'utf8');
    t.true(report.includes(`## ${result.title}`), 'the report has a section for the suite');
    for (const plot of result.plots) t.true(report.includes(`](${suite}/${plot.file})`), `the report links ${plot.file}`);
    t.true(report.includes(result.run.command), 'the report gives the command');
  });
}

test.serial('report regenerates REPORT.md from every suite present, and --readme prints the Performance section', async (t) => {
  t.timeout(60_000);
  if (!existsSync(join(root, 'REPORT.md'))) {
    t.pass('no suite results to report on (earlier tests failed)');
    return;
  }
  const run = await runCli(['report', '--results', root], 30_000);
  t.is(run.code, 0, run.stderr);
  const report = readFileSync(join(root, 'REPORT.md'), 'utf8');
  for (const [suite] of SUITES) t.true(report.includes(`[${suite}](#`), `the report's index lists ${suite}`);
  const readme = await runCli(['report', '--results', root, '--readme'], 30_000);
  t.is(readme.code, 0, readme.stderr);
  t.regex(readme.stdout, /^## Performance/);
  t.regex(readme.stdout, /\]\(bench\/results\/scaling\/kmeans-speedup\.svg\)/);
  t.regex(readme.stdout, /reproduce: `npm run bench -- scaling/);
});
