/**
 * TLS for the uws transport's data connections: PGAS_TLS_CERT and PGAS_TLS_KEY (PEM files) make every
 * rank's data server speak TLS; PGAS_TLS_CA (PEM) is what the ranks' clients trust when they dial a
 * peer (default: Node's built-in CAs). pgas-run sets them from --tls-cert, --tls-key, --tls-ca.
 * The peer's certificate must name the host it is dialled by (the advertised host).
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../errors.js';

export interface TlsFiles {
  certFile: string;
  keyFile: string;
  caFile: string | undefined;
}

function readable(variable: string, file: string): string {
  const path = resolve(file);
  try {
    accessSync(path, constants.R_OK);
  } catch (error) {
    throw new ConfigError(`${variable}=${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  return path;
}

/** The TLS files named by the environment, checked readable; undefined when TLS is off. */
export function tlsFromEnvironment(env: NodeJS.ProcessEnv = process.env): TlsFiles | undefined {
  const cert = env.PGAS_TLS_CERT || undefined;
  const key = env.PGAS_TLS_KEY || undefined;
  const ca = env.PGAS_TLS_CA || undefined;
  if (!cert && !key) {
    if (ca) throw new ConfigError('PGAS_TLS_CA is set but PGAS_TLS_CERT and PGAS_TLS_KEY are not: TLS needs a certificate and key for every rank');
    return undefined;
  }
  if (!cert || !key) throw new ConfigError(`TLS needs both PGAS_TLS_CERT and PGAS_TLS_KEY (only ${cert ? 'PGAS_TLS_CERT' : 'PGAS_TLS_KEY'} is set)`);
  return {
    certFile: readable('PGAS_TLS_CERT', cert),
    keyFile: readable('PGAS_TLS_KEY', key),
    caFile: ca ? readable('PGAS_TLS_CA', ca) : undefined,
  };
}

/** The CA bundle a client trusts (undefined: Node's defaults). */
export function readCa(files: TlsFiles): Buffer | undefined {
  return files.caFile ? readFileSync(files.caFile) : undefined;
}
