/**
 * Whole-job restart. `--checkpoint-dir DIR` records the job (ranks, transport, hosts, program and its
 * arguments, -x variables) in DIR/job.json and tells every rank to checkpoint into DIR
 * (PGAS_CHECKPOINT_DIR: the solvers of runtime/asgd write rank-N.ckpt there, see
 * runtime/asgd/run/checkpoint-env.ts). `--resume DIR` reads the record back, checks that every rank has
 * a checkpoint there, and starts the same job again with PGAS_RESUME=1: each rank continues from its
 * last checkpoint. Flags given with --resume (--tolerate-failures, --output-dir, ...) apply to the new
 * run; the job's shape (-n, transport, hosts, program) is the recorded one.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { LaunchOptions, LauncherTransport } from './args.js';
import { UsageError } from './errors.js';

export const JOB_RECORD = 'job.json';

interface JobRecord {
  version: 1;
  ranks: number | undefined;
  transport: LauncherTransport;
  hostfile: string | undefined;
  oversubscribe: boolean;
  program: string;
  programArgs: string[];
  env: Array<[string, string | null]>;
  cwd: string;
}

/** Fill in what --checkpoint-dir / --resume mean; the options are otherwise unchanged. */
export function applyCheckpointOptions(options: LaunchOptions, cwd: string): LaunchOptions {
  if (options.resumeDir !== undefined) return resumeFrom(options, resolve(cwd, options.resumeDir));
  if (options.checkpointDir === undefined) return options;
  const dir = resolve(cwd, options.checkpointDir);
  try {
    mkdirSync(dir, { recursive: true });
    const record: JobRecord = {
      version: 1,
      ranks: options.ranks,
      transport: options.transport,
      hostfile: options.hostfile === undefined ? undefined : resolve(cwd, options.hostfile),
      oversubscribe: options.oversubscribe,
      program: options.program,
      programArgs: options.programArgs,
      env: options.env.map(([k, v]) => [k, v ?? null]),
      cwd,
    };
    // the record is replaced atomically too: a resume never reads half of it
    const temp = join(dir, `${JOB_RECORD}.tmp-${process.pid}`);
    writeFileSync(temp, `${JSON.stringify(record, null, 2)}\n`);
    renameSync(temp, join(dir, JOB_RECORD));
  } catch (err) {
    throw new UsageError(`cannot use --checkpoint-dir ${options.checkpointDir}: ${(err as Error).message}`);
  }
  return { ...options, checkpointDir: dir, env: [...options.env, ['PGAS_CHECKPOINT_DIR', dir]] };
}

function resumeFrom(options: LaunchOptions, dir: string): LaunchOptions {
  const file = join(dir, JOB_RECORD);
  let record: JobRecord;
  try {
    record = JSON.parse(readFileSync(file, 'utf8')) as JobRecord;
  } catch (err) {
    throw new UsageError(`--resume ${options.resumeDir}: cannot read ${file} (${(err as Error).message}); was the job started with --checkpoint-dir ${options.resumeDir}?`);
  }
  if (record.version !== 1 || typeof record.program !== 'string' || !Array.isArray(record.programArgs) || !Array.isArray(record.env)) {
    throw new UsageError(`--resume ${options.resumeDir}: ${file} is not a job record of this pgas-run`);
  }
  if (options.ranks !== undefined && options.ranks !== record.ranks) {
    throw new UsageError(`--resume ${options.resumeDir}: the job had ${String(record.ranks)} ranks, -n ${options.ranks} cannot resume it (checkpoints are per rank)`);
  }
  if (record.ranks !== undefined) {
    const missing: number[] = [];
    for (let r = 0; r < record.ranks; r++) {
      const ckpt = join(dir, `rank-${r}.ckpt`);
      if (!existsSync(ckpt) && !existsSync(`${ckpt}.prev`)) missing.push(r);
    }
    if (missing.length > 0) {
      throw new UsageError(`--resume ${options.resumeDir}: no checkpoint for rank${missing.length > 1 ? 's' : ''} ${missing.join(', ')} in ${dir} (rank-N.ckpt); the job cannot continue where it stopped`);
    }
  }
  return {
    ...options,
    ranks: record.ranks,
    transport: record.transport,
    hostfile: record.hostfile,
    oversubscribe: record.oversubscribe,
    program: record.program,
    programArgs: record.programArgs,
    checkpointDir: dir,
    env: [...record.env.map(([k, v]): [string, string | undefined] => [k, v ?? undefined]), ...options.env, ['PGAS_CHECKPOINT_DIR', dir], ['PGAS_RESUME', '1']],
  };
}
