/**
 * The dashboard's keys. The page's URL carries a random view key (printed by pgas-run); ranks report
 * with a separate feed key, which lets them send metrics but not see the dashboard. Every HTTP request
 * and WebSocket upgrade without the right key is answered 403.
 */
import { randomBytes } from 'node:crypto';
import { tokensEqual } from '../../../pgas/bootstrap/token.js';

/** 144 random bits, URL-safe (base64url), so it needs no escaping in a URL. */
export function makeKey(): string {
  return randomBytes(18).toString('base64url');
}

/** The `key` parameter of a query string ("a=1&key=..."), or '' when there is none. */
export function keyInQuery(query: string): string {
  return new URLSearchParams(query).get('key') ?? '';
}

/** Constant-time comparison (the time says nothing about how much of the key was right). */
export function keyMatches(query: string, expected: string): boolean {
  if (expected.length === 0) return false;
  return tokensEqual(keyInQuery(query), expected);
}
