/**
 * Who may connect: challenge-response proof of the job token (handshake.ts), the bound on how long a
 * connection may take to give it (timeout.ts), rate-limited logging of refused connections
 * (rejections.ts), and the TLS files of the uws transport (tls.ts).
 */
export {
  ANSWER_BYTES, CHALLENGE_BYTES, CONFIRM_BYTES, ClientHandshake, ServerHandshake, type AuthRole,
} from './handshake.js';
export { RejectionLog, type RejectionLogOptions } from './rejections.js';
export { authTimeoutMs, DEFAULT_AUTH_TIMEOUT_MS } from './timeout.js';
export { readCa, tlsFromEnvironment, type TlsFiles } from './tls.js';
