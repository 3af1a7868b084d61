/**
 * The job token: a shared secret every peer connection presents (DESIGN.md, "wire format"). pgas-run
 * makes a fresh random one per job unless the user supplies one (--token-file, or $PGAS_TOKEN), which
 * is useful to start extra ranks by hand or to know the token in tests. It never goes on a command line
 * or into a rank's environment: ranks read it from stdin (rank-env.ts).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { UsageError } from './errors.js';

export function validateToken(token: string, from: string): string {
  if (token.length < 8) throw new UsageError(`the token from ${from} must be at least 8 characters`);
  if (/[\r\n]/.test(token)) throw new UsageError(`the token from ${from} must be one line`);
  return token;
}

export function jobToken(tokenFile: string | undefined, env: NodeJS.ProcessEnv): string {
  if (tokenFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(tokenFile, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read --token-file ${tokenFile}: ${(err as Error).message}`);
    }
    return validateToken((text.split(/\r?\n/)[0] ?? '').trim(), `--token-file ${tokenFile}`);
  }
  if (env.PGAS_TOKEN) return validateToken(env.PGAS_TOKEN, 'PGAS_TOKEN');
  return randomBytes(24).toString('base64url');
}
