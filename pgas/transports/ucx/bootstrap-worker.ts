/**
 * The UCX transport's bootstrap thread: hosts the rendezvous on rank 0, registers this rank's worker
 * address, and keeps the heartbeat going. It runs off the main thread so that a rank whose JavaScript
 * is busy (a long synchronous step) keeps beating and is not declared dead, and so that health flips in
 * shared memory as soon as the rendezvous reports a death.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { joinRendezvous, RendezvousServer, formatEndpoint, type RendezvousClient } from '../../bootstrap/index.js';
import { PgasError } from '../../errors.js';
import { SharedState, type SharedStateInit } from '../../shared-state.js';

export interface BootstrapWorkerInit {
  rank: number;
  size: number;
  token: string;
  rendezvous: { host: string; port: number };
  startupTimeoutMs: number;
  heartbeatMs: number;
  shared: SharedStateInit;
}

export type ToBootstrap = { t: 'join'; endpoint: string } | { t: 'leave' };
export type FromBootstrap =
  | { t: 'table'; endpoints: string[] }
  | { t: 'error'; code: string; message: string }
  | { t: 'dead'; rank: number }
  | { t: 'log'; line: string }
  | { t: 'left' };

const init = workerData as BootstrapWorkerInit;
const port = parentPort!;
const shared = SharedState.attach(init.shared);
let server: RendezvousServer | undefined;
let client: RendezvousClient | undefined;
const post = (message: FromBootstrap): void => port.postMessage(message);

async function join(endpoint: string): Promise<void> {
  try {
    if (init.rank === 0) {
      const where = formatEndpoint(init.rendezvous.host, init.rendezvous.port);
      server = await RendezvousServer.start({
        host: init.rendezvous.host,
        port: init.rendezvous.port,
        size: init.size,
        token: init.token,
        startupTimeoutMs: init.startupTimeoutMs,
        heartbeatMs: init.heartbeatMs,
        log: (line) => post({ t: 'log', line }),
      }).catch((error: Error) => {
        throw new PgasError('ERR_RENDEZVOUS', `rank 0 cannot host the rendezvous on ${where} (PGAS_RENDEZVOUS): ${error.message}`);
      });
    }
    client = await joinRendezvous({
      host: init.rendezvous.host,
      port: init.rendezvous.port,
      rank: init.rank,
      size: init.size,
      token: init.token,
      endpoint,
      startupTimeoutMs: init.startupTimeoutMs,
      heartbeatMs: init.heartbeatMs,
      onPeerDead: (rank) => {
        shared.markDead(rank); // visible to the main thread at once, even while it computes
        post({ t: 'dead', rank });
      },
    });
    post({ t: 'table', endpoints: client.members.map((m) => m.endpoint) });
  } catch (error) {
    const e = error as PgasError;
    await server?.close();
    post({ t: 'error', code: e.code ?? 'ERR_RENDEZVOUS', message: e.message });
  }
}

port.on('message', (message: ToBootstrap) => {
  if (message.t === 'join') void join(message.endpoint);
  else if (message.t === 'leave') {
    client?.leave();
    // Rank 0 tells everyone still connected "bye" (a clean end) when it leaves.
    void (server?.close() ?? Promise.resolve()).then(() => {
      post({ t: 'left' });
      port.close();
    });
  }
});
