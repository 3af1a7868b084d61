/**
 * The native UCX transport. `ucxStatus()` says whether it can run here (and why not);
 * `createUcxTransport` builds one over a bootstrap (see UcxBootstrap).
 */
import type { PgasConfig } from '../../config.js';
import { ConfigError } from '../../errors.js';
import type { TransportKind } from '../../transport.js';
import { startUcxBootstrap } from './bootstrap.js';
import { loadNative, type NativeStatus } from './native.js';
import { UcxTransport, type UcxBootstrap, type UcxTransportOptions } from './transport.js';
import type { SharedState } from '../../shared-state.js';

export { UcxTransport, type UcxBootstrap, type UcxTransportOptions } from './transport.js';
export { loadNative, ADDON_PATH, MISSING_PACKAGE_HINT, type NativeStatus } from './native.js';

/** Whether the ucx transport is usable in this process, and if not, why (for --info and `auto`). */
export function ucxStatus(env: NodeJS.ProcessEnv = process.env): NativeStatus {
  return loadNative(env);
}

/** Tuning from the environment (documented in the README): PGAS_UCX_SPIN_US, PGAS_UCX_INLINE, PGAS_UCX_INLINE_MAX, PGAS_UCX_CLOSE_TIMEOUT_MS. */
export function ucxTuningFromEnv(env: NodeJS.ProcessEnv = process.env): Pick<UcxTransportOptions, 'spinMicros' | 'inline' | 'inlineMaxBytes' | 'closeTimeoutMs'> {
  const int = (name: string, lo: number, hi: number): number | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === '') return undefined;
    if (!/^\d+$/.test(raw) || Number(raw) < lo || Number(raw) > hi) throw new ConfigError(`${name} must be an integer in [${lo}, ${hi}], got '${raw}'`);
    return Number(raw);
  };
  const inline = env.PGAS_UCX_INLINE;
  if (inline !== undefined && inline !== '' && inline !== '0' && inline !== '1') throw new ConfigError(`PGAS_UCX_INLINE must be 0 or 1, got '${inline}'`);
  const out: Pick<UcxTransportOptions, 'spinMicros' | 'inline' | 'inlineMaxBytes' | 'closeTimeoutMs'> = {};
  const spin = int('PGAS_UCX_SPIN_US', 0, 1_000_000);
  if (spin !== undefined) out.spinMicros = spin;
  if (inline === '0' || inline === '1') out.inline = inline === '1';
  const max = int('PGAS_UCX_INLINE_MAX', 0, 1 << 30);
  if (max !== undefined) out.inlineMaxBytes = max;
  const closeTimeout = int('PGAS_UCX_CLOSE_TIMEOUT_MS', 0, 600_000);
  if (closeTimeout !== undefined) out.closeTimeoutMs = closeTimeout;
  return out;
}

/** Whether UCX can actually start here (addon loads, ucp_init succeeds); the reason when not. */
export function ucxUsable(env: NodeJS.ProcessEnv = process.env): { usable: boolean; reason: string } {
  const status = loadNative(env);
  if (!status.available) return { usable: false, reason: status.reason };
  const problem = status.binding.probe();
  if (problem) return { usable: false, reason: `UCX ${status.ucxVersion} cannot start here (${problem})` };
  return { usable: true, reason: `native addon with UCX ${status.ucxVersion}` };
}

/**
 * PGAS_TRANSPORT / --transport: threads, uws and ucx are taken as asked; auto picks ucx where the addon
 * is built and UCX starts, uws otherwise, and says why in `note`.
 */
export function chooseTransport(requested: string, env: NodeJS.ProcessEnv = process.env): { kind: TransportKind; note: string } {
  if (requested !== 'auto') return { kind: requested as TransportKind, note: `transport ${requested} (as requested)` };
  const { usable, reason } = ucxUsable(env);
  return usable
    ? { kind: 'ucx', note: `transport auto chose ucx (${reason})` }
    : { kind: 'uws', note: `transport auto chose uws: ucx is unavailable (${reason})` };
}

export interface CreateUcxOptions {
  rank: number;
  size: number;
  config: PgasConfig;
  /** a bootstrap of your own (tests); by default the job's rendezvous, as `rendezvous` etc. say */
  bootstrap?: UcxBootstrap;
  token?: string;
  rendezvous?: { host: string; port: number };
  startupTimeoutMs?: number;
  heartbeatMs?: number;
  log?: (line: string) => void;
}

/** Build the transport; throws ConfigError naming the missing package when the addon is absent. */
export async function createUcxTransport(options: CreateUcxOptions): Promise<UcxTransport> {
  const status = loadNative();
  if (!status.available) throw new ConfigError(`PGAS_TRANSPORT=ucx is unavailable: ${status.reason}`);
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  let bootstrap: UcxBootstrap | ((shared: SharedState) => UcxBootstrap);
  if (options.bootstrap) {
    bootstrap = options.bootstrap;
  } else {
    const { token, rendezvous } = options;
    if (token === undefined || rendezvous === undefined) throw new ConfigError('createUcxTransport: give a bootstrap, or the job token and rendezvous address');
    bootstrap = (shared) => startUcxBootstrap({
      rank: options.rank,
      size: options.size,
      token,
      rendezvous,
      startupTimeoutMs: options.startupTimeoutMs ?? 30000,
      heartbeatMs: options.heartbeatMs ?? 500,
      shared,
      log,
    });
  }
  return UcxTransport.create(status.binding, {
    rank: options.rank, size: options.size, config: options.config, bootstrap, log, ...ucxTuningFromEnv(),
  });
}
