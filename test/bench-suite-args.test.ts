/** Option parsing of the benchmark suites, and the CLI's exit status 2 with a message for bad usage. */
import test from 'ava';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseSuiteArgs, UsageError } from '../bench/suite-args.js';

const cli = fileURLToPath(new URL('../bench/cli.js', import.meta.url));
const ALL = ['--quick', '--out', '--ranks', '--seeds', '--solvers', '--transport', '--size', '--fraction', '--time-budget', '--json'] as const;

test('suite options parse into values (ranks sorted, sizes and durations understood)', (t) => {
  const a = parseSuiteArgs('scaling', ['--quick', '--ranks', '4,1,2', '--seeds=3', '--solvers', 'asgd,sync', '--out', 'x/y', '--size', '1TB', '--fraction', '0.001', '--time-budget', '2m'], ALL, { solvers: ['asgd', 'sync'] });
  t.true(a.quick);
  t.deepEqual(a.ranks, [1, 2, 4]);
  t.is(a.seeds, 3);
  t.deepEqual(a.solvers, ['asgd', 'sync']);
  t.is(a.out, 'x/y');
  t.deepEqual(a.size, { kind: 'bytes', bytes: 1e12 });
  t.is(a.fraction, 0.001);
  t.is(a.timeBudget, 120);
  const d = parseSuiteArgs('scaling', [], ALL);
  t.false(d.quick);
  t.is(d.ranks, undefined);
});

test('--workload takes a list of the suite\'s workloads, each once, and only where the suite has workloads', (t) => {
  const choices = { workloads: ['kmeans', 'lenet'] };
  t.deepEqual(parseSuiteArgs('scaling', ['--workload', 'lenet'], ['--workload'], choices).workloads, ['lenet']);
  t.deepEqual(parseSuiteArgs('scaling', ['--workload=kmeans,lenet'], ['--workload'], choices).workloads, ['kmeans', 'lenet']);
  t.is(parseSuiteArgs('scaling', [], ['--workload'], choices).workloads, undefined);
  t.throws(() => parseSuiteArgs('scaling', ['--workload', 'resnet'], ['--workload'], choices), { instanceOf: UsageError, message: "--workload: unknown workload 'resnet' (kmeans, lenet)" });
  t.throws(() => parseSuiteArgs('scaling', ['--workload', 'lenet,lenet'], ['--workload'], choices), { instanceOf: UsageError, message: /names a workload twice/ });
  t.throws(() => parseSuiteArgs('scaling', ['--workload'], ['--workload'], choices), { instanceOf: UsageError, message: /--workload needs a value/ });
  t.throws(() => parseSuiteArgs('ablation', ['--workload', 'lenet'], ['--quick', '--seeds']), { instanceOf: UsageError, message: /--workload does not apply to this suite/ });
});

test('bad suite options are UsageErrors that name the problem', (t) => {
  const bad: [string[], RegExp][] = [
    [['--bogus'], /unknown option '--bogus'/],
    [['stray'], /unknown argument 'stray'/],
    [['--ranks', '0'], /--ranks: '0' is not a positive whole number/],
    [['--ranks', '1,x'], /'x' is not a positive whole number/],
    [['--ranks', '2,2'], /repeats/],
    [['--ranks'], /--ranks needs a value/],
    [['--seeds', '-1'], /--seeds needs a value|not a positive/],
    [['--solvers', 'asgd,nosuch'], /unknown solver 'nosuch'/],
    [['--transport', 'pigeon'], /unknown transport 'pigeon'/],
    [['--size', 'lots'], /--size/],
    [['--fraction', '2'], /--fraction: '2' is not a number in \(0, 1\]/],
    [['--time-budget', '0'], /--time-budget/],
    [['--quick=yes'], /--quick takes no value/],
    [['--quick', '--quick'], /given twice/],
  ];
  for (const [argv, message] of bad) {
    const error = t.throws(() => parseSuiteArgs('scaling', argv, ALL, { solvers: ['asgd'] }), { instanceOf: UsageError }, argv.join(' '));
    t.regex(error!.message, message, argv.join(' '));
  }
  t.throws(() => parseSuiteArgs('kernels', ['--ranks', '2'], ['--quick', '--out']), { instanceOf: UsageError, message: /--ranks does not apply to this suite/ });
});

function runCli(args: string[]): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, stdout });
    });
  });
}

test('the CLI exits 2 with a message and the usage for bad flags, before running anything', async (t) => {
  const cases: [string[], RegExp][] = [
    [['scaling', '--ranks', 'abc'], /--ranks: 'abc'/],
    [['convergence', '--seeds'], /--seeds needs a value/],
    [['kernels', '--ranks', '2'], /does not apply/],
    [['terabyte', '--fraction', '0'], /--fraction/],
    [['sources', '--bogus'], /unknown option '--bogus'/],
    [['scaling', '--workload', 'resnet'], /unknown workload 'resnet'/],
    [['report', '--results'], /--results needs a folder/],
    [['nosuch'], /unknown subcommand 'nosuch'/],
  ];
  for (const [args, message] of cases) {
    const run = await runCli(args);
    t.is(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    t.regex(run.stderr, message, args.join(' '));
    t.regex(run.stderr, /usage:/);
  }
  const help = await runCli(['--help']);
  t.is(help.code, 0);
  for (const suite of ['pgas', 'kernels', 'scaling', 'convergence', 'ablation', 'sources', 'terabyte']) t.regex(help.stdout, new RegExp(`\\b${suite}\\b`));
});
