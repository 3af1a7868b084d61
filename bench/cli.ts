/**
 * Entry point of the benchmarks: `npm run bench -- <subcommand> [options]`
 * (`node dist/bench/cli.js <subcommand> [options]` once built).
 *
 *   pgas [--transport threads|uws|all] [--json FILE] [--quick]
 *       put/get latency and bandwidth, putNotify ping-pong, barrier and allreduce on 2 ranks, per
 *       transport, beside the floors measured in the same run (ws -> uWebSockets.js echo; memcpy)
 *
 * Other subcommands run the standalone entry `dist/bench/<name>-main.js` with the remaining arguments
 * where one is built (asgd, kmeans, ...). Bad usage exits with status 2; a benchmark that could not run
 * exits with 1; figures never decide the exit status.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BenchTransport } from './job.js';
import { describeHost, formatPgasTable, formatVerdict, PGAS_TRANSPORTS, runPgasBench } from './pgas.js';

class UsageError extends Error {}

const PGAS_USAGE = 'usage: npm run bench -- pgas [--transport threads|uws|all] [--json FILE] [--quick]';
/** subcommands that have a standalone entry `<name>-main.js` beside this file */
const FORWARDED = ['asgd', 'kmeans', 'cnn', 'ucx'] as const;

function usage(): string {
  return [
    'usage: npm run bench -- <subcommand> [options]',
    '',
    'subcommands:',
    '  pgas [--transport threads|uws|all] [--json FILE] [--quick]',
    '        one-sided latency and bandwidth, putNotify ping-pong, barrier, allreduce (2 ranks, loopback)',
    ...FORWARDED.map((name) => `  ${name} [...]  (runs dist/bench/${name}-main.js with the remaining arguments)`),
  ].join('\n');
}

interface PgasArgs {
  transports: BenchTransport[];
  json: string | undefined;
  quick: boolean;
  help: boolean;
}

export function parsePgasArgs(argv: readonly string[]): PgasArgs {
  const out: PgasArgs = { transports: [...PGAS_TRANSPORTS], json: undefined, quick: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    const value = (): string => {
      if (inline !== undefined) return inline;
      const next = argv[++i];
      if (next === undefined || next.startsWith('--')) throw new UsageError(`pgas: ${flag} needs a value`);
      return next;
    };
    switch (flag) {
      case '--transport': {
        const t = value();
        if (t === 'all') out.transports = [...PGAS_TRANSPORTS];
        else if ((PGAS_TRANSPORTS as readonly string[]).includes(t)) out.transports = [t as BenchTransport];
        else throw new UsageError(`pgas: unknown transport '${t}' (threads, uws or all)`);
        break;
      }
      case '--json':
        out.json = value();
        if (out.json === '') throw new UsageError('pgas: --json needs a file name');
        break;
      case '--quick':
        if (inline !== undefined) throw new UsageError('pgas: --quick takes no value');
        out.quick = true;
        break;
      case '--help':
      case '-h':
        out.help = true;
        break;
      default:
        throw new UsageError(`pgas: unknown ${arg.startsWith('-') ? 'option' : 'argument'} '${arg}'`);
    }
  }
  return out;
}

async function pgas(argv: readonly string[]): Promise<number> {
  const args = parsePgasArgs(argv);
  if (args.help) {
    process.stdout.write(`${PGAS_USAGE}\n`);
    return 0;
  }
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  const started = performance.now();
  const { records, failures } = await runPgasBench({ transports: args.transports, quick: args.quick, log });
  const seconds = (performance.now() - started) / 1000;
  const out: string[] = [
    `pgas micro-benchmarks: 2 ranks on loopback${args.quick ? ' (quick: short runs, rough figures)' : ''}; ${describeHost()}`,
    'latency: median time of one operation (put/get: post + wait(queue), i.e. remote completion); bandwidth: bytes / median time of one sample of N ops in flight + one wait; GB/s = 10^9 B/s',
    '',
    formatPgasTable(records),
    '',
    formatVerdict(records),
    '',
    `(${seconds.toFixed(1)} s)`,
  ];
  process.stdout.write(`${out.join('\n')}\n`);
  if (args.json !== undefined) {
    writeFileSync(args.json, records.length === 0 ? '[]\n' : `[\n${records.map((r) => JSON.stringify(r)).join(',\n')}\n]\n`);
  }
  if (failures.length > 0) {
    process.stderr.write(`\npgas bench: ${failures.length} part${failures.length === 1 ? '' : 's'} could not run:\n${failures.map((f) => `- ${f}`).join('\n')}\n`);
    return 1;
  }
  return 0;
}

function forward(name: string, argv: readonly string[]): Promise<number> {
  const entry = fileURLToPath(new URL(`./${name}-main.js`, import.meta.url));
  if (!existsSync(entry)) {
    throw new UsageError(`subcommand '${name}' has no built entry (${entry} is missing)`);
  }
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [entry, ...argv], { stdio: 'inherit' });
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

async function main(argv: readonly string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined) throw new UsageError('missing subcommand');
  if (sub === '--help' || sub === '-h' || sub === 'help') {
    process.stdout.write(`${usage()}\n`);
    return 0;
  }
  if (sub === 'pgas') return pgas(rest);
  if ((FORWARDED as readonly string[]).includes(sub)) return forward(sub, rest);
  throw new UsageError(`unknown subcommand '${sub}'`);
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
