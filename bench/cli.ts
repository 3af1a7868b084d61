/**
 * Entry point of the benchmarks: `npm run bench -- <suite|subcommand> [options]`
 * (`node dist/bench/cli.js ...` once built).
 *
 * Suites (bench/suites/): pgas, kernels, scaling, convergence, ablation, sources, terabyte. Each writes
 * results.json and SVG plots into its results folder (bench/results/<suite>/, or --out DIR), then
 * regenerates REPORT.md in the folder above it from every suite's JSON found there.
 *
 *   report [--results DIR] [--readme]   regenerate REPORT.md, or print the README "Performance" section
 *
 * Other subcommands run the standalone entry `dist/bench/<name>-main.js` with the remaining arguments
 * where one is built (asgd, kmeans, cnn, ucx). Bad usage exits with status 2; a benchmark that could
 * not run exits with 1; figures never decide the exit status.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAverageNow } from './machine.js';
import { readmeSection, writeReport } from './report.js';
import { writeSuiteResult } from './results.js';
import { parseSuiteArgs, UsageError } from './suite-args.js';
import { findSuite, SUITES } from './suites/index.js';
import type { Suite } from './suites/types.js';

/** subcommands that have a standalone entry `<name>-main.js` beside this file */
const FORWARDED = ['asgd', 'kmeans', 'cnn', 'ucx', 'dashboard', 'connections'] as const;
/** bench/results/ of the checkout this file was built from */
export const DEFAULT_RESULTS = fileURLToPath(new URL('../../bench/results/', import.meta.url));

function usage(): string {
  return [
    'usage: npm run bench -- <suite> [options]        (node dist/bench/cli.js <suite> [options])',
    '',
    'suites (each writes results.json + SVG plots to bench/results/<suite>/ or --out DIR, and regenerates REPORT.md beside it):',
    ...SUITES.map((s) => `  ${s.name.padEnd(12)} ${s.summary}`),
    '  every suite takes --quick (about a minute on 2 cores: a smoke run, rough figures) and --out DIR',
    '',
    'other subcommands:',
    '  report [--results DIR] [--readme]   regenerate REPORT.md from the JSON under DIR (default bench/results), or print the README section',
    ...FORWARDED.map((name) => `  ${name} [...]  (runs dist/bench/${name}-main.js with the remaining arguments)`),
  ].join('\n');
}

async function runSuite(suite: Suite, argv: readonly string[]): Promise<number> {
  const args = parseSuiteArgs(suite.name, argv, suite.flags, { solvers: suite.solvers, transports: suite.transports, workloads: suite.workloads });
  if (args.help) {
    process.stdout.write(`usage: npm run bench -- ${suite.name} [${suite.flags.join('] [')}]\n  ${suite.summary}\n`);
    return 0;
  }
  // `--json FILE` without --out is the older scripting form: the records go to FILE and the committed
  // results folder is left alone (so a smoke run never overwrites the report's figures)
  const out = args.out !== undefined || args.json === undefined ? resolve(args.out ?? `${DEFAULT_RESULTS}${suite.name}`) : undefined;
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  // how busy the shared machine was when the run began (the record adds the end)
  const loadAtStart = loadAverageNow();
  const started = performance.now();
  const output = await suite.run({ args, log, cores: cpus().length });
  const seconds = (performance.now() - started) / 1000;
  const written = out !== undefined ? writeSuiteResult(out, suite.name, args.quick, seconds, output, loadAtStart) : [];
  const report = out !== undefined ? writeReport(dirname(out)) : undefined;
  if (args.json !== undefined) {
    writeFileSync(args.json, output.records.length === 0 ? '[]\n' : `[\n${output.records.map((r) => JSON.stringify(r)).join(',\n')}\n]\n`);
    written.push(args.json);
  }
  if (output.text !== undefined) process.stdout.write(`${output.text}\n`);
  else {
    for (const table of output.tables) {
      process.stdout.write(`\n${table.title}\n${[table.header, ...table.rows].map((r) => r.join(' | ')).join('\n')}\n`);
    }
  }
  for (const note of output.notes) process.stdout.write(`note: ${note}\n`);
  process.stdout.write(`\n${suite.name}: ${seconds.toFixed(1)} s; wrote ${written.join(', ')}${report ? `; report ${report}` : ''}\n`);
  const failures = (output.options.failures as string[] | undefined) ?? [];
  return failures.length > 0 ? 1 : 0;
}

function report(argv: readonly string[]): number {
  let root = DEFAULT_RESULTS;
  let readme = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--readme') readme = true;
    else if (arg === '--results') {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError('report: --results needs a folder');
      root = resolve(v);
    } else throw new UsageError(`report: unknown option '${arg}'`);
  }
  if (!existsSync(root)) throw new UsageError(`report: results folder ${root} does not exist`);
  if (readme) process.stdout.write(readmeSection(root));
  else process.stdout.write(`wrote ${writeReport(root)}\n`);
  return 0;
}

function forward(name: string, argv: readonly string[]): Promise<number> {
  const entry = fileURLToPath(new URL(`./${name}-main.js`, import.meta.url));
  if (!existsSync(entry)) {
    throw new UsageError(`subcommand '${name}' has no built entry (${entry} is missing)`);
  }
  return new Promise((done) => {
    const child = spawn(process.execPath, [entry, ...argv], { stdio: 'inherit' });
    child.once('exit', (code, signal) => done(code ?? (signal ? 1 : 0)));
  });
}

async function main(argv: readonly string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined) throw new UsageError('missing subcommand (a suite name, report, or a forwarded benchmark)');
  if (sub === '--help' || sub === '-h' || sub === 'help') {
    process.stdout.write(`${usage()}\n`);
    return 0;
  }
  const suite = findSuite(sub);
  if (suite) return runSuite(suite, rest);
  if (sub === 'report') return report(rest);
  if ((FORWARDED as readonly string[]).includes(sub)) return forward(sub, rest);
  throw new UsageError(`unknown subcommand '${sub}' (suites: ${SUITES.map((x) => x.name).join(', ')})`);
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError) {
    process.stderr.write(`bench: ${error.message}\n\n${usage()}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`bench: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  }
}
