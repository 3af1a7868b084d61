/**
 * Bootstrap: the rendezvous through which the ranks of a job find each other (rank 0 hosts it, or a
 * launcher runs it standalone), and the liveness heartbeat that runs over it for the whole job.
 */
export { RendezvousServer, type RendezvousServerOptions } from './server.js';
export { joinRendezvous, RendezvousClient, type JoinOptions } from './client.js';
export { formatEndpoint, MISSED_HEARTBEATS, type Member } from './protocol.js';
export { tokensEqual } from './token.js';
