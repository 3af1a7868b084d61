/** postMessage traffic between a uws rank's compute thread and its communication worker (control plane only). */
import type { PgasConfig } from '../../config.js';
import type { SharedStateInit } from '../../shared-state.js';
import type { TlsFiles } from '../../auth/index.js';
import type { ConnectionMode } from '../../env.js';

export interface WorkerInit {
  rank: number;
  size: number;
  config: PgasConfig;
  token: string;
  /** TLS for data connections (undefined: plain ws) */
  tls: TlsFiles | undefined;
  /** how long an incoming connection may take to prove the token */
  authTimeoutMs: number;
  rendezvous: { host: string; port: number };
  listenHost: string;
  advertiseHost: string;
  startupTimeoutMs: number;
  heartbeatMs: number;
  shared: SharedStateInit;
  ctl: SharedArrayBuffer;
  ring: SharedArrayBuffer;
  capacity: number;
  /** 'eager': open every data link at start; 'lazy': on first use (link-table.ts) */
  connections: ConnectionMode;
  /** one Int32 per rank: the state of this rank's link to it (link-table.ts PUBLISHED_*) */
  linkState: SharedArrayBuffer;
  /** log straight to stderr (fd 2) from the worker, so that no line is lost if the process dies; else post 'log' */
  logToStderr: boolean;
}

export type ToWorker =
  | { t: 'segment'; req: number; slot: number; bytes: number; byteOffset?: number; data: SharedArrayBuffer; notifications: SharedArrayBuffer }
  | { t: 'unsegment'; req: number; slot: number }
  | { t: 'atomic'; req: number; op: number; rank: number; slot: number; offset: number; a: bigint; b: bigint }
  | { t: 'send'; req: number; rank: number; data: Uint8Array }
  | { t: 'connect'; req: number; rank: number }
  | { t: 'disconnect'; req: number; rank: number }
  | { t: 'close' };

export type FromWorker =
  | { t: 'ready'; endpoint: string }
  | { t: 'failed'; code: string; message: string }
  /** a segment, unsegment, send, connect or disconnect request finished (status: a WireStatus) */
  | { t: 'done'; req: number; status: number }
  | { t: 'atomic'; req: number; status: number; value: bigint }
  | { t: 'message'; from: number; data: Uint8Array }
  | { t: 'log'; line: string }
  | { t: 'closed' };
