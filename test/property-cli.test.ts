/**
 * Command-line parsing against generated argument vectors: pgas-run (runtime/launcher/args.ts), the
 * kmeans CLI (kmeans/cli-args.ts), the cnn CLI (cnn/cli-args.ts) and the bench CLI's pgas subcommand
 * (bench/cli.ts). Vectors mix each parser's own flags (taken from its help text), `--flag=value`
 * forms, plausible and hostile values, and random strings. Every vector is accepted or refused with
 * the parser's typed usage error; nothing else may be thrown and nothing may hang.
 */
import test from 'ava';
import fc from 'fast-check';
import { CnnError } from '../cnn/errors.js';
import { parseCliArgs, USAGE as CNN_USAGE } from '../cnn/cli-args.js';
import { KmeansError } from '../kmeans/errors.js';
import { parseArgs as parseKmeans, usage as kmeansUsage } from '../kmeans/cli-args.js';
import { HELP as LAUNCHER_HELP, parseArgs as parseLauncher } from '../runtime/launcher/args.js';
import { UsageError as LauncherUsageError } from '../runtime/launcher/errors.js';
import { checkParser } from './fixtures/property-lib.js';
import { parseSuiteArgs, SUITE_FLAGS, UsageError as BenchUsageError } from '../bench/suite-args.js';

const flagsOf = (help: string): string[] => [...new Set(help.match(/(?<![\w-])--?[a-z][a-z0-9-]*/g) ?? [])];

const VALUES = ['', '0', '1', '2', '-1', '07', '1e3', '1e999', 'NaN', 'Infinity', '-0', '0.5', '65536', '65535', '4294967296', '9007199254740993',
  '1TB', '10GB', '3x', '90s', '1.5m', '2h', '-5m', 'uws', 'threads', 'ucx', 'all', 'auto', 'asgd', 'sync', 'kmeans', 'train', 'test', 'info',
  'host:1', '[::1]:80', 'host:0', 'host:99999', ':', 'a=b', 'PGAS_TOKEN=x', 'NAME', '=', '--', '-', '/nonexistent/file', 'prog.js', 'demo/ring.ts',
  '\u0000', '\u00e9', ' ', '%s%n', '__proto__', 'constructor', 'toString', 'hasOwnProperty'];

function argv(flags: string[]): fc.Arbitrary<string[]> {
  const token = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...flags) },
    { weight: 3, arbitrary: fc.constantFrom(...VALUES) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...flags), fc.constantFrom(...VALUES)).map(([f, v]) => `${f}=${v}`) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
    { weight: 1, arbitrary: fc.integer().map(String) },
  );
  return fc.array(token, { maxLength: 10 });
}

test('pgas-run flag parsing', (t) => {
  const tally = checkParser(t, 'cli/pgas-run', argv(flagsOf(LAUNCHER_HELP)), (a) => parseLauncher(a), (e) => e instanceof LauncherUsageError);
  t.true(tally.accepted > 0 && tally.typed > 0);
});

test('kmeans CLI flag parsing', (t) => {
  const tally = checkParser(t, 'cli/kmeans', argv(flagsOf(kmeansUsage())), (a) => parseKmeans(a), (e) => e instanceof KmeansError);
  t.true(tally.accepted > 0 && tally.typed > 0);
});

test('cnn CLI flag parsing', (t) => {
  const commands = fc.constantFrom('train', 'test', 'info', 'bogus', '--help');
  const tally = checkParser(t, 'cli/cnn', fc.tuple(commands, argv(flagsOf(CNN_USAGE))).map(([c, a]) => [c, ...a]), (a) => parseCliArgs(a), (e) => e instanceof CnnError);
  t.true(tally.accepted > 0 && tally.typed > 0);
});

test('bench CLI (suite flags) flag parsing', (t) => {
  const typed = (e: unknown): boolean => e instanceof BenchUsageError;
  const tally = checkParser(t, 'cli/bench-suite', argv([...SUITE_FLAGS, '-h']),
    (a) => parseSuiteArgs('pgas', a, SUITE_FLAGS, { solvers: ['asgd', 'sync'], transports: ['threads', 'uws', 'ucx'] }), typed);
  t.true(tally.accepted > 0 && tally.typed > 0);
});
