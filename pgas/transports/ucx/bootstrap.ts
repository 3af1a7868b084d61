/**
 * The UCX transport's side of the job bootstrap (pgas/bootstrap): a worker thread registers this rank's
 * UCX worker address at the rendezvous as its "endpoint" and relays the heartbeat's death notices.
 */
import { Worker } from 'node:worker_threads';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { BadTokenError, RendezvousError } from '../../errors.js';
import type { SharedState } from '../../shared-state.js';
import type { BootstrapWorkerInit, FromBootstrap, ToBootstrap } from './bootstrap-worker.js';
import type { UcxBootstrap } from './transport.js';

export interface UcxBootstrapOptions {
  rank: number;
  size: number;
  token: string;
  rendezvous: { host: string; port: number };
  startupTimeoutMs: number;
  heartbeatMs: number;
  shared: SharedState;
  log: (line: string) => void;
}

/** Worker addresses travel as the rendezvous "endpoint" string: compressed, base64, tagged. */
const PREFIX = 'ucxz:';
/** The rendezvous accepts endpoints of up to this many characters (pgas/bootstrap/protocol.ts). */
const MAX_ENDPOINT = 300;

export function encodeAddress(address: Uint8Array): string {
  return PREFIX + deflateRawSync(address, { level: 9 }).toString('base64');
}

export function decodeAddress(rank: number, endpoint: string): Uint8Array {
  if (!endpoint.startsWith(PREFIX)) {
    throw new RendezvousError(`rank ${rank} registered '${endpoint.slice(0, 40)}', not a UCX worker address: every rank of a job must use the same transport (set PGAS_TRANSPORT alike on all of them; with 'auto', install the UCX addon on every host or on none)`);
  }
  return inflateRawSync(Buffer.from(endpoint.slice(PREFIX.length), 'base64'));
}

export function startUcxBootstrap(options: UcxBootstrapOptions): UcxBootstrap {
  const init: BootstrapWorkerInit = {
    rank: options.rank,
    size: options.size,
    token: options.token,
    rendezvous: options.rendezvous,
    startupTimeoutMs: options.startupTimeoutMs,
    heartbeatMs: options.heartbeatMs,
    shared: options.shared.toInit(),
  };
  const worker = new Worker(new URL('./bootstrap-worker.js', import.meta.url), { workerData: init });
  const listeners: ((rank: number) => void)[] = [];
  let onTable: ((m: FromBootstrap) => void) | undefined;
  let onLeft: (() => void) | undefined;
  let exited = false;
  worker.on('message', (message: FromBootstrap) => {
    if (message.t === 'dead') for (const l of listeners) l(message.rank);
    else if (message.t === 'log') options.log(message.line);
    else if (message.t === 'left') onLeft?.();
    else onTable?.(message);
  });
  worker.on('error', (error) => {
    options.log(`pgas ucx rank ${options.rank}: the bootstrap thread failed: ${error.message}`);
    onTable?.({ t: 'error', code: 'ERR_RENDEZVOUS', message: `the bootstrap thread failed: ${error.message}` });
  });
  worker.on('exit', () => {
    exited = true;
    onLeft?.();
  });
  const send = (message: ToBootstrap): void => worker.postMessage(message);
  return {
    allgather(blob: Uint8Array): Promise<Uint8Array[]> {
      const endpoint = encodeAddress(blob);
      if (endpoint.length > MAX_ENDPOINT) {
        return Promise.reject(new RendezvousError(`rank ${options.rank}: this UCX worker address needs ${endpoint.length} characters, more than the rendezvous accepts (${MAX_ENDPOINT}); restrict UCX_TLS / UCX_NET_DEVICES to the devices the job uses`));
      }
      return new Promise((resolve, reject) => {
        onTable = (message) => {
          onTable = undefined;
          if (message.t === 'table') {
            try {
              resolve(message.endpoints.map((e, r) => decodeAddress(r, e)));
            } catch (error) {
              reject(error);
            }
          } else if (message.t === 'error') {
            reject(message.code === 'ERR_BAD_TOKEN' ? new BadTokenError(message.message) : new RendezvousError(message.message));
          }
        };
        send({ t: 'join', endpoint });
      });
    },
    onPeerDead(listener) {
      listeners.push(listener);
    },
    close(): Promise<void> {
      if (exited) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const timer = setTimeout(() => void worker.terminate().then(() => resolve()), 3000);
        onLeft = () => {
          clearTimeout(timer);
          resolve();
        };
        send({ t: 'leave' });
      });
    },
  };
}
