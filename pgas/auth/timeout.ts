/**
 * How long a connection may take to prove the job token before it is closed. Generous by default: a
 * legitimate peer answers within one event-loop turn, but an oversubscribed node can stall for
 * seconds. PGAS_AUTH_TIMEOUT_MS overrides it (tests use a short one).
 */
import { ConfigError } from '../errors.js';

export const DEFAULT_AUTH_TIMEOUT_MS = 10_000;

export function authTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.PGAS_AUTH_TIMEOUT_MS;
  if (raw === undefined || raw === '') return DEFAULT_AUTH_TIMEOUT_MS;
  if (!/^\d{1,9}$/.test(raw.trim()) || Number(raw) < 1) throw new ConfigError(`PGAS_AUTH_TIMEOUT_MS must be a positive whole number of ms, got '${raw}'`);
  return Number(raw);
}
