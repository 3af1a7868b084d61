import { isMainThread, workerData } from 'node:worker_threads';
import { resolveConfig, type PgasConfig } from './config.js';
import { PgasContext } from './context.js';
import { parseConnectionMode, readRankEnvironment, type ConnectionMode } from './env.js';
import { ConfigError } from './errors.js';
import { watchLauncher } from './launcher-watch.js';
import { runThreadRanks } from './transports/threads/hub.js';
import { ThreadsTransport } from './transports/threads/transport.js';
import type { ThreadRankInit } from './transports/threads/messages.js';

export interface InitOptions {
  config?: Partial<PgasConfig>;
  /** where to log transport events (bad tokens, malformed frames); default stderr */
  log?: (line: string) => void;
  /**
   * uws: open data links on first use of a rank ('lazy') or all at start ('eager'); default
   * PGAS_CONNECTIONS, else lazy. ucx always connects at start; threads need no connections.
   */
  connections?: ConnectionMode;
}

/**
 * Join the job this process (or thread) was started into, as the environment contract in env.ts
 * describes, and return this rank's context.
 *
 * With PGAS_TRANSPORT=threads and no PGAS_RANK, the calling process becomes the host of PGAS_SIZE rank
 * threads that each run this same program (like a fork): it never returns, and the process exits with
 * the first non-zero exit code of its ranks (0 if all succeeded).
 */
export async function init(options: InitOptions = {}): Promise<PgasContext> {
  const config = resolveConfig({ ...configFromEnvironment(), ...options.config });
  const threadInit = !isMainThread ? (workerData as { pgasThreads?: ThreadRankInit } | undefined)?.pgasThreads : undefined;
  if (threadInit) return PgasContext.open(new ThreadsTransport(threadInit));
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  watchLauncher(log);

  if (process.env.PGAS_TRANSPORT === 'threads' && !process.env.PGAS_RANK) {
    return hostThreadRanks(config);
  }
  // PGAS_TRANSPORT=auto: ucx where the native addon is built and UCX starts, uws otherwise; the choice
  // and its reason go to the log.
  let autoNote: string | undefined;
  let rankEnv = process.env;
  if (process.env.PGAS_TRANSPORT === 'auto') {
    const { chooseTransport } = await import('./transports/ucx/index.js');
    const choice = chooseTransport('auto');
    autoNote = choice.note;
    rankEnv = { ...process.env, PGAS_TRANSPORT: choice.kind };
  }
  const env = readRankEnvironment(rankEnv);
  if (autoNote) log(`pgas: rank ${env.rank}: ${autoNote}`);
  if (env.transport === 'threads') {
    throw new ConfigError('PGAS_TRANSPORT=threads runs all ranks in one process: set PGAS_SIZE and leave PGAS_RANK unset');
  }
  const token = env.token ?? (await readTokenFromStdin());
  if (env.transport === 'ucx') {
    // Throws ConfigError naming the missing package (libucx-dev) when the addon is not built.
    const { createUcxTransport } = await import('./transports/ucx/index.js');
    const transport = await createUcxTransport({
      rank: env.rank,
      size: env.size,
      config,
      token,
      rendezvous: env.rendezvous,
      startupTimeoutMs: env.startupTimeoutMs,
      heartbeatMs: env.heartbeatMs,
      ...(options.log ? { log: options.log } : {}),
    });
    return PgasContext.open(transport, env.startupTimeoutMs);
  }
  const { createUwsTransport } = await import('./transports/uws/index.js');
  const transport = await createUwsTransport({
    rank: env.rank,
    size: env.size,
    config,
    token,
    rendezvous: env.rendezvous,
    listenHost: env.listenHost,
    advertiseHost: env.advertiseHost,
    startupTimeoutMs: env.startupTimeoutMs,
    heartbeatMs: env.heartbeatMs,
    connections: options.connections === undefined ? env.connections : parseConnectionMode(options.connections, 'init option connections'),
    ...(options.log ? { log: options.log } : {}),
  });
  return PgasContext.open(transport, env.startupTimeoutMs);
}

/** PGAS_CONFIG may hold a JSON object of config overrides (validated like any other config). */
function configFromEnvironment(): Partial<PgasConfig> {
  const raw = process.env.PGAS_CONFIG;
  if (!raw) return {};
  try {
    const parsed: unknown = JSON.parse(raw);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
    return parsed as Partial<PgasConfig>;
  } catch (error) {
    throw new ConfigError(`PGAS_CONFIG must be a JSON object of config keys: ${(error as Error).message}`);
  }
}

async function hostThreadRanks(config: PgasConfig): Promise<never> {
  const raw = process.env.PGAS_SIZE;
  if (!raw || !/^\d+$/.test(raw) || Number(raw) < 1) {
    throw new ConfigError(`PGAS_SIZE must be a positive integer for the threads transport, got '${raw ?? ''}'`);
  }
  const entry = process.argv[1];
  if (!entry) throw new ConfigError('cannot tell which program to run in the rank threads (no process.argv[1])');
  const { exitCodes } = await runThreadRanks(Number(raw), entry, { config, argv: process.argv.slice(2) });
  process.exit(exitCodes.find((c) => c !== 0) ?? 0);
}

/** The first line of standard input is the job token (remote ranks: it never shows in `ps`). */
function readTokenFromStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString('utf8');
      const newline = buffered.indexOf('\n');
      if (newline >= 0) {
        cleanup();
        resolve(buffered.slice(0, newline).trim());
      }
    };
    const onEnd = (): void => {
      cleanup();
      if (buffered.trim().length >= 8) resolve(buffered.trim());
      else reject(new ConfigError('PGAS_TOKEN_STDIN=1 but standard input closed before a token line arrived'));
    };
    const cleanup = (): void => {
      process.stdin.off('data', onData);
      process.stdin.off('end', onEnd);
      process.stdin.pause();
      process.stdin.unref?.();
    };
    process.stdin.on('data', onData);
    process.stdin.on('end', onEnd);
  });
}
