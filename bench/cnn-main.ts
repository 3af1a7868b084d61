/**
 * `npm run bench -- cnn [options]` (bench/cli.ts forwards here): LeNet throughput per kernel path
 * (GEMM GFLOP/s, training / forward+backward / inference images/s, batch 64, one core), Fashion-MNIST
 * accuracy after 1 and 5 epochs, and ASGD on 2 ranks against 1 rank for the same wall time.
 *
 *   node dist/bench/cnn-main.js [--quick] [--seconds S] [--paths typescript,native] [--epochs 1,5]
 *                               [--asgd-seconds S] [--no-asgd] [--json FILE]
 *
 * --quick: 1 s per throughput figure, no accuracy runs, no ASGD comparison (unless --epochs /
 * --asgd-seconds ask for them). The table goes to stdout, progress to stderr, records to --json FILE.
 */
import { writeFileSync } from 'node:fs';
import type { KernelPath } from '../cnn/math/blas.js';
import { formatCnnTable, runCnnAsgdBench, runCnnBench, type CnnBenchOptions, type CnnBenchRecord } from './cnn.js';

const USAGE = 'usage: cnn bench [--quick] [--seconds S] [--paths typescript,native] [--epochs 1,5] [--asgd-seconds S] [--no-asgd] [--no-pytorch] [--json FILE]';

function fail(message: string): never {
  process.stderr.write(`cnn bench: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function positive(flag: string, text: string | undefined): number {
  const v = Number(text);
  if (text === undefined || !Number.isFinite(v) || v <= 0) fail(`${flag} needs a positive number, got '${text ?? ''}'`);
  return v;
}

const argv = process.argv.slice(2);
const options: CnnBenchOptions = { log: (line) => process.stderr.write(`${line}\n`) };
let json: string | undefined;
let asgdSeconds: number | undefined;
let asgd = true;
for (let i = 0; i < argv.length; i++) {
  const a = argv[i]!;
  if (a === '--quick') options.quick = true;
  else if (a === '--seconds') options.seconds = positive(a, argv[++i]);
  else if (a === '--paths') {
    const paths = (argv[++i] ?? '').split(',');
    if (!paths.every((p) => p === 'typescript' || p === 'native')) fail(`--paths takes typescript and/or native, got '${paths.join(',')}'`);
    options.paths = paths as KernelPath[];
  } else if (a === '--epochs') {
    const text = argv[++i] ?? '';
    options.epochs = text === '' || text === 'none' ? [] : text.split(',').map((e) => Math.round(positive('--epochs', e)));
  } else if (a === '--asgd-seconds') asgdSeconds = positive(a, argv[++i]);
  else if (a === '--no-asgd') asgd = false;
  else if (a === '--no-pytorch') options.pytorch = false;
  else if (a === '--json') json = argv[++i] ?? fail('--json needs a file name');
  else if (a === '--help' || a === '-h') {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  } else fail(`unknown argument '${a}'`);
}

const records: CnnBenchRecord[] = await runCnnBench(options);
if (asgd && (!options.quick || asgdSeconds !== undefined)) {
  records.push(...await runCnnAsgdBench({ seconds: asgdSeconds ?? 60, log: options.log }));
}
process.stdout.write(`${formatCnnTable(records)}\n`);
if (json !== undefined) writeFileSync(json, `${JSON.stringify(records, null, 1)}\n`);
