/**
 * The uws transport: ranks as processes that talk over WebSockets (a uWebSockets.js server and `ws`
 * clients in a communication worker thread per rank), meeting at a rendezvous that rank 0 hosts.
 */
import type { Transport } from '../../transport.js';
import { UwsTransport, type UwsTransportOptions } from './transport.js';

export { UwsTransport, type UwsTransportOptions } from './transport.js';

/**
 * Start this rank's communication worker, register at the rendezvous (rank 0 hosts it), wait for every
 * rank, and connect to all of them. Rejects with BadTokenError when the rendezvous refuses the token,
 * RendezvousError when the job cannot start (a rank missing after startupTimeoutMs, a duplicate rank,
 * a size mismatch, an unreachable peer).
 */
export async function createUwsTransport(opts: UwsTransportOptions): Promise<Transport> {
  return UwsTransport.create(opts);
}
