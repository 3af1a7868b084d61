import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Compare a presented job token with the expected one in constant time. Both are hashed first so that
 * the comparison takes the same time whatever the lengths (timingSafeEqual needs equal lengths, and
 * an early length check would tell an attacker the token's length).
 */
export function tokensEqual(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}
