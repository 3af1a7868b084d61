/**
 * Challenge-response proof of the job token, for every connection into a rank or the rendezvous.
 *
 * The server opens with a random 32-byte nonce (the challenge). The client answers with its own nonce
 * and HMAC-SHA256(token, "client" label || server nonce || client nonce || client id || server id);
 * the server checks it in constant time and confirms with HMAC-SHA256(token, "server" label || ...),
 * which the client checks in turn: both ends prove they hold the token, the token never crosses the
 * wire, and an answer cannot be replayed (fresh server nonce), reflected (different labels for the two
 * directions) or moved to another rank or role (the ids and the role are under the MAC).
 *
 * This module knows nothing about sockets: a transport carries the three messages (challenge, answer,
 * confirm) however it likes and only asks `ServerHandshake.accept` and `ClientHandshake.answer/confirm`.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const NONCE_BYTES = 32;
export const MAC_BYTES = 32;

/** What the connection is for; part of the MAC, so that a data-connection answer is no rendezvous answer. */
export type AuthRole = 'data' | 'rendezvous';

const CHALLENGE_MAGIC = 0x31434750; // 'PGC1' little-endian
const ANSWER_MAGIC = 0x31414750; // 'PGA1'
const CONFIRM_MAGIC = 0x314b4750; // 'PGK1'

export const CHALLENGE_BYTES = 4 + NONCE_BYTES;
export const ANSWER_BYTES = 4 + 4 + NONCE_BYTES + MAC_BYTES;
export const CONFIRM_BYTES = 4 + MAC_BYTES;

/** The largest client id (a rank); 0xffffffff is never a rank. */
const MAX_ID = 0xfffffffe;

function mac(token: string, direction: 'client' | 'server', role: AuthRole, serverNonce: Uint8Array, clientNonce: Uint8Array, clientId: number, serverId: number): Buffer {
  const ids = Buffer.alloc(8);
  ids.writeUInt32LE(clientId >>> 0, 0);
  ids.writeUInt32LE(serverId >>> 0, 4);
  return createHmac('sha256', token)
    .update(`pgas-auth-v1 ${direction} ${role}\n`)
    .update(serverNonce)
    .update(clientNonce)
    .update(ids)
    .digest();
}

/** Two MACs equal? Constant time (both are MAC_BYTES long by construction: lengths tell nothing). */
function macsEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === MAC_BYTES && b.length === MAC_BYTES && timingSafeEqual(a, b);
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The server's half: one per accepted connection. */
export class ServerHandshake {
  /** the bytes to send first */
  readonly challenge: Buffer;
  private readonly nonce: Buffer;
  private used = false;

  /**
   * @param serverId the rank accepting the connection (data), or the job size (rendezvous)
   * @param acceptClient whether a client id may connect at all (checked only after its proof holds)
   */
  constructor(
    private readonly token: string,
    private readonly role: AuthRole,
    private readonly serverId: number,
    private readonly acceptClient: (clientId: number) => string | undefined = () => undefined,
  ) {
    this.nonce = randomBytes(NONCE_BYTES);
    this.challenge = Buffer.alloc(CHALLENGE_BYTES);
    this.challenge.writeUInt32LE(CHALLENGE_MAGIC, 0);
    this.nonce.copy(this.challenge, 4);
  }

  /**
   * Check the client's answer (one try per connection). Returns the proven client id and the confirm
   * message to send back, or a short reason for the log.
   */
  accept(answer: Uint8Array): { clientId: number; confirm: Buffer } | string {
    if (this.used) return 'a second answer on one connection';
    this.used = true;
    if (answer.length !== ANSWER_BYTES) return `a ${answer.length}-byte first message, not an authentication answer`;
    const v = view(answer);
    if (v.getUint32(0, true) !== ANSWER_MAGIC) return 'a first message that is not an authentication answer';
    const clientId = v.getUint32(4, true);
    const clientNonce = answer.subarray(8, 8 + NONCE_BYTES);
    const proof = answer.subarray(8 + NONCE_BYTES, ANSWER_BYTES);
    const expected = mac(this.token, 'client', this.role, this.nonce, clientNonce, clientId, this.serverId);
    if (!macsEqual(proof, expected)) return 'wrong proof of the job token';
    if (clientId > MAX_ID) return `bad id ${clientId}`;
    const refused = this.acceptClient(clientId);
    if (refused !== undefined) return refused;
    const confirm = Buffer.alloc(CONFIRM_BYTES);
    confirm.writeUInt32LE(CONFIRM_MAGIC, 0);
    mac(this.token, 'server', this.role, this.nonce, clientNonce, clientId, this.serverId).copy(confirm, 4);
    return { clientId, confirm };
  }
}

/** The client's half: one per outgoing connection. */
export class ClientHandshake {
  private readonly nonce = randomBytes(NONCE_BYTES);
  private serverNonce: Buffer | undefined;

  /**
   * @param clientId this rank
   * @param serverId the rank dialled (data), or the job size (rendezvous)
   */
  constructor(
    private readonly token: string,
    private readonly role: AuthRole,
    private readonly clientId: number,
    private readonly serverId: number,
  ) {}

  /** The answer to the server's challenge, or a reason why the challenge is not one. */
  answer(challenge: Uint8Array): Buffer | string {
    if (this.serverNonce) return 'a second challenge on one connection';
    if (challenge.length !== CHALLENGE_BYTES || view(challenge).getUint32(0, true) !== CHALLENGE_MAGIC) {
      return 'the server did not open with an authentication challenge (not a pgas endpoint, or another version)';
    }
    this.serverNonce = Buffer.from(challenge.subarray(4));
    const out = Buffer.alloc(ANSWER_BYTES);
    out.writeUInt32LE(ANSWER_MAGIC, 0);
    out.writeUInt32LE(this.clientId >>> 0, 4);
    this.nonce.copy(out, 8);
    mac(this.token, 'client', this.role, this.serverNonce, this.nonce, this.clientId, this.serverId).copy(out, 8 + NONCE_BYTES);
    return out;
  }

  /** Check the server's confirmation: undefined when it proves the server holds the token, else a reason. */
  confirm(message: Uint8Array): string | undefined {
    if (!this.serverNonce) return 'a confirmation before the challenge';
    if (message.length !== CONFIRM_BYTES || view(message).getUint32(0, true) !== CONFIRM_MAGIC) {
      return 'the server refused the authentication answer (wrong job token?)';
    }
    const expected = mac(this.token, 'server', this.role, this.serverNonce, this.nonce, this.clientId, this.serverId);
    return macsEqual(message.subarray(4), expected) ? undefined : 'the server could not prove that it holds the job token';
  }
}
