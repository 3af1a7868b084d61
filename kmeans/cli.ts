/**
 * The `kmeans` command: a rank program. Under `pgas-run -n N kmeans ...` (or started by hand with the
 * PGAS_* environment contract) every rank runs it; started plainly (`node dist/kmeans/cli.js ...`) it
 * runs as a job of one rank. Flags are checked before the job is joined, so a bad flag fails at once
 * on every rank with exit code 2 and nothing written; a bad data file fails every rank (exit 1)
 * before training, also with nothing written. See `--help`.
 */
import { init } from '../pgas/index.js';
import { parseArgs, usage, type KmeansConfig } from './cli-args.js';
import { PeerSetupError } from './collective.js';
import { KmeansError, UsageError } from './errors.js';
import { summaryText, writeOutputs } from './output.js';
import { runKmeans } from './run.js';

const RANK_VARIABLES = ['PGAS_RANK', 'PGAS_SIZE', 'PGAS_TRANSPORT', 'SLURM_PROCID', 'OMPI_COMM_WORLD_RANK', 'PMI_RANK', 'PMIX_RANK'];

function fail(message: string, code: number): never {
  process.stderr.write(`kmeans: ${message}\n`);
  process.exit(code);
}

let config: KmeansConfig;
try {
  config = parseArgs(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError) fail(`${error.message}\n(kmeans --help lists the flags)`, 2);
  throw error;
}
if (config.help) {
  process.stdout.write(`${usage()}\n`);
  process.exit(0);
}

// Started plainly, outside any launcher: a job of one rank (a rank thread of this process).
if (!RANK_VARIABLES.some((name) => process.env[name] !== undefined)) {
  process.env.PGAS_TRANSPORT = 'threads';
  process.env.PGAS_SIZE = '1';
}

const ctx = await init();
let code = 0;
try {
  if (ctx.rank === 0) {
    const c = config;
    const data = c.data.kind === 'synthetic' ? `synthetic, ${c.data.points} points, d = ${c.data.dim}, ${c.data.kTrue} true clusters` : `${c.data.kind} ${c.data.file}`;
    process.stdout.write(`kmeans: ${c.solver} on ${ctx.size} rank${ctx.size === 1 ? '' : 's'} (${ctx.transportKind}); k = ${c.k}; data: ${data}\n`);
  }
  const result = await runKmeans(ctx, config, {
    write: (text) => process.stdout.write(text),
    live: ctx.rank === 0 && process.stdout.isTTY === true,
  });
  if (ctx.rank === 0) {
    process.stdout.write(`${summaryText(result)}\n`);
    if (config.out !== undefined) {
      const files = writeOutputs(config.out, result);
      process.stdout.write(`wrote ${files.join(', ')}\n`);
    }
  }
} catch (error) {
  const where = ctx.size > 1 ? ` (rank ${ctx.rank} of ${ctx.size})` : '';
  if (error instanceof PeerSetupError) {
    process.stderr.write(`kmeans${where}: ${error.message}\n`);
    code = 1;
  } else if (error instanceof KmeansError) {
    process.stderr.write(`kmeans${where}: ${error.message}\n`);
    code = error instanceof UsageError ? 2 : 1;
  } else {
    process.stderr.write(`kmeans${where}: ${(error as Error)?.stack ?? String(error)}\n`);
    code = 1;
  }
} finally {
  await ctx.close();
}
process.exit(code);
