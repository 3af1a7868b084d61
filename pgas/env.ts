/**
 * The contract between a launcher and a rank: a handful of environment variables. `pgas-run` sets
 * them; a user can also start ranks by hand with them (see README, "Starting ranks by hand").
 *
 *   PGAS_RANK               this rank, 0..size-1
 *   PGAS_SIZE               number of ranks
 *   PGAS_TRANSPORT          uws (default) | threads | ucx | auto
 *                           auto: init() picks ucx where the native addon is built and UCX starts
 *                           here, uws otherwise, and logs which it chose and why (pgas-run
 *                           --transport auto decides once in the launcher and passes the choice on)
 *   UCX_TLS, UCX_NET_DEVICES, UCX_*  (ucx only) read by UCX itself and passed through untouched:
 *                           which UCX transports and devices to use (e.g. UCX_TLS=posix,sysv,self or
 *                           tcp,self; UCX_NET_DEVICES=mlx5_0:1 or eth0)
 *   PGAS_RENDEZVOUS         host:port where rank 0 hosts the rendezvous (rank 0 listens there)
 *   PGAS_TOKEN              the job token (a shared secret every connection must present), or
 *   PGAS_TOKEN_STDIN=1      read the token from the first line of standard input instead, so that it
 *                           never appears in any process's environment or command line (remote ranks)
 *   PGAS_LISTEN_HOST        address the rank's data server binds (default 127.0.0.1)
 *   PGAS_ADVERTISE_HOST     address peers use to reach it (default: the listen host)
 *   PGAS_STARTUP_TIMEOUT_MS how long the rendezvous waits for every rank (default 30000)
 *   PGAS_HEARTBEAT_MS       liveness heartbeat period on the bootstrap connection (default 500)
 *   PGAS_LAUNCHER_PID       pgas-run's (or its ssh shim's) pid: the rank stops itself if its parent
 *                           is no longer that process (pgas/launcher-watch.ts)
 *   PGAS_CONNECTIONS        lazy (default) | eager: uws data links open on first use of a rank, or
 *                           all at start (GPI-2's dynamic versus static infrastructure); ucx is always
 *                           eager, threads need none (pgas-run --connections)
 *
 * Slurm (SLURM_PROCID, SLURM_NTASKS) and Open MPI / PMI (OMPI_COMM_WORLD_RANK/SIZE, PMI_RANK/SIZE)
 * variables stand in for PGAS_RANK / PGAS_SIZE when those are absent.
 */
import { ConfigError } from './errors.js';
import type { TransportKind } from './transport.js';

/** When a uws rank opens its data links: on first use of each peer, or all at start. */
export type ConnectionMode = 'lazy' | 'eager';

/**
 * Lazy, like GPI-2's default (on-demand) infrastructure: a job opens only the links its traffic uses,
 * which is what lets a large job start without N² connections.
 */
export const DEFAULT_CONNECTIONS: ConnectionMode = 'lazy';

/** 'lazy' or 'eager' (`what` names the setting in the error); undefined or '' gives the default. */
export function parseConnectionMode(value: unknown, what: string): ConnectionMode {
  if (value === undefined || value === '') return DEFAULT_CONNECTIONS;
  if (value === 'lazy' || value === 'eager') return value;
  throw new ConfigError(`${what} must be lazy or eager, got '${String(value)}'`);
}

export interface RankEnvironment {
  rank: number;
  size: number;
  transport: TransportKind;
  rendezvous: { host: string; port: number };
  /** undefined when the token is to be read from stdin (PGAS_TOKEN_STDIN=1) */
  token: string | undefined;
  tokenFromStdin: boolean;
  listenHost: string;
  advertiseHost: string;
  startupTimeoutMs: number;
  heartbeatMs: number;
  connections: ConnectionMode;
}

function intVar(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`${name} must be a non-negative integer, got '${raw}'`);
  return Number(raw);
}

function firstInt(env: NodeJS.ProcessEnv, names: string[]): number | undefined {
  for (const name of names) {
    const v = intVar(env, name);
    if (v !== undefined) return v;
  }
  return undefined;
}

export function parseHostPort(value: string, what: string): { host: string; port: number } {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(value.trim());
  if (!m || m[1] === '') throw new ConfigError(`${what} must be host:port, got '${value}'`);
  const port = Number(m[2]);
  if (port < 1 || port > 65535) throw new ConfigError(`${what} port must be 1..65535, got ${port}`);
  return { host: m[1]!, port };
}

/** Read and validate the rank environment. Throws ConfigError naming the variable that is wrong. */
export function readRankEnvironment(env: NodeJS.ProcessEnv = process.env): RankEnvironment {
  const rank = firstInt(env, ['PGAS_RANK', 'SLURM_PROCID', 'OMPI_COMM_WORLD_RANK', 'PMI_RANK', 'PMIX_RANK']);
  const size = firstInt(env, ['PGAS_SIZE', 'SLURM_NTASKS', 'OMPI_COMM_WORLD_SIZE', 'PMI_SIZE']);
  if (rank === undefined || size === undefined) {
    throw new ConfigError('no rank environment: set PGAS_RANK and PGAS_SIZE (or start the program with pgas-run)');
  }
  if (size < 1) throw new ConfigError(`PGAS_SIZE must be at least 1, got ${size}`);
  if (rank >= size) throw new ConfigError(`PGAS_RANK ${rank} is not below PGAS_SIZE ${size}`);
  const transport = (env.PGAS_TRANSPORT ?? 'uws') as TransportKind;
  if (!['uws', 'threads', 'ucx'].includes(transport)) {
    throw new ConfigError(`PGAS_TRANSPORT must be uws, threads or ucx, got '${transport}'`);
  }
  const rv = env.PGAS_RENDEZVOUS;
  if (!rv) throw new ConfigError('PGAS_RENDEZVOUS (host:port of rank 0\'s rendezvous) is not set');
  const tokenFromStdin = env.PGAS_TOKEN_STDIN === '1';
  const token = tokenFromStdin ? undefined : env.PGAS_TOKEN;
  if (!tokenFromStdin && (token === undefined || token.length < 8)) {
    throw new ConfigError('PGAS_TOKEN must be set to the job token (at least 8 characters), or PGAS_TOKEN_STDIN=1');
  }
  const listenHost = env.PGAS_LISTEN_HOST || '127.0.0.1';
  return {
    rank,
    size,
    transport,
    rendezvous: parseHostPort(rv, 'PGAS_RENDEZVOUS'),
    token,
    tokenFromStdin,
    listenHost,
    advertiseHost: env.PGAS_ADVERTISE_HOST || listenHost,
    startupTimeoutMs: intVar(env, 'PGAS_STARTUP_TIMEOUT_MS') ?? 30000,
    heartbeatMs: intVar(env, 'PGAS_HEARTBEAT_MS') ?? 500,
    connections: parseConnectionMode(env.PGAS_CONNECTIONS, 'PGAS_CONNECTIONS'),
  };
}
