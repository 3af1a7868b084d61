/**
 * The rendezvous protocol: newline-delimited JSON over one TCP connection per rank, kept open for the
 * whole job (it carries the heartbeats and the death notices).
 *
 *   rank 0 -> rank   challenge {data}                      (pgas/auth: a nonce, base64)
 *   rank -> rank 0   register {auth, rank, size, endpoint, pid, hostname}, then hb, finally leave
 *                    (auth: the proof of the job token for this rank, base64; the token is never sent)
 *   rank 0 -> rank   welcome {data} (the rendezvous's own proof), then table {members} | error {code,
 *                    message}, then hb, dead {rank}, bye
 *
 * After the table, the connection also relays what every rank must hear without a data link to it
 * (the uws transport connects data links lazily, pgas/transports/uws/engine.ts):
 *
 *   rank -> rank 0   segment {req, slot, bytes}   a segment's size (0: deleted), for every other rank
 *   rank 0 -> rank   segment {n, rank, slot, bytes}   ... relayed, `rank` the announcer (as it proved)
 *   rank -> rank 0   ack {n, status}              recorded (status 0) or refused (a WireStatus)
 *   rank 0 -> rank   segment-done {req, status}   every live rank answered (status: the first refusal)
 *   rank -> rank 0   closing                      this rank's close() began: it sends no more ops
 *   rank 0 -> rank   closing {rank}               ... relayed to every other rank
 */
import type { Socket } from 'node:net';

export interface Member {
  rank: number;
  /** host:port of the rank's data server */
  endpoint: string;
  pid: number;
  hostname: string;
}

export interface RegisterLine extends Member {
  t: 'register';
  /** the answer to the challenge (pgas/auth), base64 */
  auth: string;
  size: number;
}

export type ToRendezvous =
  | RegisterLine
  | { t: 'hb' }
  | { t: 'leave' }
  | { t: 'segment'; req: number; slot: number; bytes: number }
  | { t: 'ack'; n: number; status: number }
  | { t: 'closing' };

export type FromRendezvous =
  | { t: 'challenge'; data: string }
  | { t: 'welcome'; data: string }
  | { t: 'table'; members: Member[] }
  | { t: 'error'; code: 'ERR_BAD_TOKEN' | 'ERR_RENDEZVOUS'; message: string }
  | { t: 'hb' }
  | { t: 'dead'; rank: number }
  | { t: 'segment'; n: number; rank: number; slot: number; bytes: number }
  | { t: 'segment-done'; req: number; status: number }
  | { t: 'closing'; rank: number }
  | { t: 'bye' };

/** A line longer than this is not ours (a table of 4096 ranks is well below it). */
export const MAX_LINE_BYTES = 1 << 20;
/** What the rendezvous accepts from a rank (a registration, heartbeats): far less, before or after auth. */
export const MAX_RANK_LINE_BYTES = 4096;

/**
 * A rank is declared dead after this many heartbeat periods without a line from it (8 s at the default
 * 500 ms). A process that dies closes its connection and is noticed at once; the heartbeat is only for
 * hosts that vanish, so it errs on the side of patience: an oversubscribed node stalls for seconds.
 */
export const MISSED_HEARTBEATS = 16;

/**
 * Feed a socket's bytes in, get whole JSON lines out. A line that does not parse, or that grows past
 * MAX_LINE_BYTES, ends the connection through `onBad`.
 */
export function readLines(socket: Socket, onLine: (value: unknown) => void, onBad: (why: string) => void, maxLineBytes = MAX_LINE_BYTES): void {
  let buffered = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const text = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (text.length === 0) continue;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        onBad('a line that is not JSON');
        return;
      }
      onLine(value);
      if (socket.destroyed) return;
    }
    if (buffered.length > maxLineBytes) onBad(`a line longer than ${maxLineBytes} bytes`);
  });
}

export function writeLine(socket: Socket, line: ToRendezvous | FromRendezvous): void {
  if (!socket.destroyed && socket.writable) socket.write(`${JSON.stringify(line)}\n`);
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

/** A non-negative integer no larger than `max` (fields of relayed lines). */
export const isCount = (v: unknown, max = 2 ** 31): v is number => isInt(v) && v >= 0 && v <= max;

/** The registration line, checked field by field; a string says what is wrong. */
export function parseRegister(value: unknown): RegisterLine | string {
  if (typeof value !== 'object' || value === null) return 'not an object';
  const v = value as Record<string, unknown>;
  if (v.t !== 'register') return `expected a registration, got '${String(v.t)}'`;
  if (typeof v.auth !== 'string' || v.auth.length > 200) return 'no authentication answer';
  if (!isInt(v.rank) || v.rank < 0) return 'rank is not a non-negative integer';
  if (!isInt(v.size) || v.size < 1) return 'size is not a positive integer';
  if (typeof v.endpoint !== 'string' || v.endpoint.length > 300) return 'endpoint is not a host:port string';
  if (!isInt(v.pid)) return 'pid is not an integer';
  if (typeof v.hostname !== 'string' || v.hostname.length > 300) return 'hostname is not a string';
  return { t: 'register', auth: v.auth, rank: v.rank, size: v.size, endpoint: v.endpoint, pid: v.pid, hostname: v.hostname };
}

/** host:port, with brackets around an IPv6 address. */
export function formatEndpoint(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
