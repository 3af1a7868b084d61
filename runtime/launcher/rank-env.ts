/**
 * The environment a rank is started with: the launcher side of the contract in pgas/env.ts. The token
 * is never part of it: every rank gets PGAS_TOKEN_STDIN=1 and reads the token from the first line of
 * its standard input, so that it shows up neither in `ps` (command lines) nor in /proc/PID/environ.
 */
export interface RankEnvSpec {
  rank: number | undefined;
  size: number;
  transport: string;
  rendezvous: { host: string; port: number } | undefined;
  listenHost: string | undefined;
  advertiseHost: string | undefined;
  startupTimeoutMs: number | undefined;
  heartbeatMs: number | undefined;
  /**
   * Ranks that are this process's own children (local and srun/mpirun tasks) stop by themselves if
   * pgas-run dies (pgas/launcher-watch.ts). Remote ranks leave it out: their parent is the shim, which
   * names itself instead and stops them when the ssh connection ends.
   */
  launcherPid?: number;
}

export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The PGAS_* variables for one rank (only those that have a value). */
export function rankEnv(spec: RankEnvSpec): Record<string, string> {
  const env: Record<string, string> = {
    PGAS_SIZE: String(spec.size),
    PGAS_TRANSPORT: spec.transport,
    PGAS_TOKEN_STDIN: '1',
  };
  if (spec.rank !== undefined) env.PGAS_RANK = String(spec.rank);
  if (spec.rendezvous) env.PGAS_RENDEZVOUS = formatHostPort(spec.rendezvous.host, spec.rendezvous.port);
  if (spec.listenHost !== undefined) env.PGAS_LISTEN_HOST = spec.listenHost;
  if (spec.advertiseHost !== undefined) env.PGAS_ADVERTISE_HOST = spec.advertiseHost;
  if (spec.startupTimeoutMs !== undefined) env.PGAS_STARTUP_TIMEOUT_MS = String(spec.startupTimeoutMs);
  if (spec.heartbeatMs !== undefined) env.PGAS_HEARTBEAT_MS = String(spec.heartbeatMs);
  if (spec.launcherPid !== undefined) env.PGAS_LAUNCHER_PID = String(spec.launcherPid);
  return env;
}

/**
 * Variables that must not reach a rank from the launcher's own environment: the contract variables the
 * launcher sets itself (a stale one would contradict it) and the token (it goes on stdin). Other PGAS_*
 * knobs, and scheduler variables (which env.ts consults only when PGAS_RANK is absent), pass through.
 */
const SCRUBBED = /^PGAS_(RANK|SIZE|TRANSPORT|RENDEZVOUS|TOKEN|TOKEN_STDIN|LISTEN_HOST|ADVERTISE_HOST|LAUNCHER_PID)$/;

/** The launcher's environment minus what would confuse or leak, plus the rank's variables and -x ones. */
export function childEnvironment(
  base: NodeJS.ProcessEnv,
  rankVars: Record<string, string>,
  extra: ReadonlyArray<[string, string | undefined]>,
): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(base)) {
    if (v !== undefined && !SCRUBBED.test(k)) out[k] = v;
  }
  Object.assign(out, resolveExtraEnv(base, extra), rankVars);
  return out;
}

/** -x NAME takes NAME's value from the launcher's environment; -x NAME=VALUE sets it. */
export function resolveExtraEnv(
  base: NodeJS.ProcessEnv,
  extra: ReadonlyArray<[string, string | undefined]>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of extra) {
    const v = value ?? base[name];
    if (v !== undefined) out[name] = v;
  }
  return out;
}
