/**
 * A rank's side of the rendezvous: connect (retrying until the startup timeout, since rank 0 may start
 * later), register, receive the endpoint table, then keep the connection for heartbeats and death
 * notices until `leave`.
 */
import { connect, type Socket } from 'node:net';
import { hostname as osHostname } from 'node:os';
import { ClientHandshake } from '../auth/index.js';
import { BadTokenError, RendezvousError } from '../errors.js';
import { formatEndpoint, isCount, MISSED_HEARTBEATS, readLines, writeLine, type FromRendezvous, type Member } from './protocol.js';

export interface JoinOptions {
  /** where the rendezvous listens */
  host: string;
  port: number;
  rank: number;
  size: number;
  token: string;
  /** host:port of this rank's data server, as peers should dial it */
  endpoint: string;
  startupTimeoutMs: number;
  heartbeatMs: number;
  /** called once per rank that the rendezvous declares dead; rank 0 when the rendezvous itself is lost */
  onPeerDead: (rank: number) => void;
  pid?: number;
  hostname?: string;
  /**
   * Another rank's segment announcement, relayed (protocol.ts): record it and return 0, or a WireStatus
   * refusing it. Default: accepted and ignored.
   */
  onSegment?: (rank: number, slot: number, bytes: number) => number;
  /** every other live rank answered this rank's announcement `req` (status: the first refusal) */
  onAnnounced?: (req: number, status: number) => void;
  /** another rank began its close (it sends no more operations) */
  onPeerClosing?: (rank: number) => void;
}

const RETRY_MS = 100;

export class RendezvousClient {
  /** every rank's registration, indexed by rank */
  readonly members: Member[];
  private readonly socket: Socket;
  private readonly options: JoinOptions;
  private readonly timer: NodeJS.Timeout;
  private lastSeen = Date.now();
  private lastBeat = Date.now();
  private ended = false;
  private readonly dead = new Set<number>();

  /** @internal joinRendezvous builds it once the table has arrived */
  constructor(socket: Socket, members: Member[], options: JoinOptions) {
    this.socket = socket;
    this.members = members;
    this.options = options;
    this.timer = setInterval(() => this.beat(), options.heartbeatMs);
    this.timer.unref();
  }

  /** @internal a line after the table */
  onLine(line: FromRendezvous): void {
    this.lastSeen = Date.now();
    const o = this.options;
    if (line.t === 'dead' && this.isRank(line.rank)) this.declare(line.rank);
    else if (line.t === 'segment' && this.isRank(line.rank) && isCount(line.n, Number.MAX_SAFE_INTEGER) && isCount(line.slot) && isCount(line.bytes)) {
      writeLine(this.socket, { t: 'ack', n: line.n, status: o.onSegment?.(line.rank, line.slot, line.bytes) ?? 0 });
    } else if (line.t === 'segment-done' && isCount(line.req) && isCount(line.status, 255)) o.onAnnounced?.(line.req, line.status);
    else if (line.t === 'closing' && this.isRank(line.rank)) o.onPeerClosing?.(line.rank);
    else if (line.t === 'bye') {
      // The rendezvous ended cleanly (rank 0 closed): not a death; nobody watches health any more.
      this.ended = true;
      clearInterval(this.timer);
      this.socket.end();
    }
  }

  /** @internal the connection closed */
  onClose(): void {
    clearInterval(this.timer);
    if (!this.ended) {
      this.ended = true;
      this.declare(0);
    }
  }

  /**
   * Relay a segment announcement to every other rank; `onAnnounced(req, ...)` follows once all live
   * ones recorded it. False if the rendezvous is gone (nobody is left to tell).
   */
  announce(req: number, slot: number, bytes: number): boolean {
    if (this.ended) return false;
    writeLine(this.socket, { t: 'segment', req, slot, bytes });
    return true;
  }

  /** Tell every other rank that this rank's close() began (it sends no more operations). */
  closing(): void {
    if (!this.ended) writeLine(this.socket, { t: 'closing' });
  }

  private isRank(rank: unknown): rank is number {
    return Number.isInteger(rank) && (rank as number) >= 0 && (rank as number) < this.options.size;
  }

  /** Say "leave" (a clean end: nobody reports this rank dead) and close the connection. */
  leave(): void {
    clearInterval(this.timer);
    if (this.ended) return;
    this.ended = true;
    writeLine(this.socket, { t: 'leave' });
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  /** Close at once, without "leave" (the peers will see this rank die). */
  destroy(): void {
    clearInterval(this.timer);
    this.ended = true;
    this.socket.destroy();
  }

  private beat(): void {
    const now = Date.now();
    // A late timer means this thread was stalled: the rendezvous's silence is counted from now.
    if (now - this.lastBeat > 2 * this.options.heartbeatMs) this.lastSeen = Math.max(this.lastSeen, now - this.options.heartbeatMs);
    this.lastBeat = now;
    const silent = now - this.lastSeen;
    if (silent > MISSED_HEARTBEATS * this.options.heartbeatMs) {
      this.ended = true;
      this.socket.destroy();
      clearInterval(this.timer);
      this.declare(0);
      return;
    }
    writeLine(this.socket, { t: 'hb' });
  }

  private declare(rank: number): void {
    if (rank === this.options.rank || this.dead.has(rank)) return;
    this.dead.add(rank);
    this.options.onPeerDead(rank);
  }
}

/**
 * Register with the rendezvous and resolve once every rank has; rejects with BadTokenError (the
 * rendezvous refused the token) or RendezvousError (unreachable, timed out, refused).
 */
export async function joinRendezvous(options: JoinOptions): Promise<RendezvousClient> {
  const start = Date.now();
  const where = formatEndpoint(options.host, options.port);
  const socket = await connectWithRetry(options.host, options.port, start + options.startupTimeoutMs, where, options.startupTimeoutMs);
  socket.setNoDelay(true);
  return new Promise<RendezvousClient>((resolve, reject) => {
    let client: RendezvousClient | undefined;
    let settled = false;
    // The token is proven, never sent (pgas/auth); the table is trusted only after the rendezvous proved it too.
    const handshake = new ClientHandshake(options.token, 'rendezvous', options.rank, 0);
    let welcomed = false;
    let registered = false;
    let lastSeen = Date.now();
    // Rank 0 answers within its own startup timeout; the hard limit only guards against a silent peer.
    const hardDeadline = start + 2 * options.startupTimeoutMs + MISSED_HEARTBEATS * options.heartbeatMs;
    const fail = (error: Error): void => {
      if (settled) return;
      settled = true;
      clearInterval(waiting);
      socket.destroy();
      reject(error);
    };
    const waiting = setInterval(() => {
      const now = Date.now();
      if (now - lastSeen > MISSED_HEARTBEATS * options.heartbeatMs || now > hardDeadline) {
        fail(new RendezvousError(`rank ${options.rank}: the rendezvous at ${where} stopped answering before the job started`));
      } else if (registered) {
        // Not before the registration: the rendezvous closes a connection whose first line is anything else.
        writeLine(socket, { t: 'hb' });
      }
    }, options.heartbeatMs);
    waiting.unref();
    readLines(
      socket,
      (value) => {
        const line = value as FromRendezvous;
        lastSeen = Date.now();
        if (client) {
          client.onLine(line);
        } else if (line.t === 'challenge') {
          const answer = handshake.answer(Buffer.from(typeof line.data === 'string' ? line.data : '', 'base64'));
          if (typeof answer === 'string') {
            fail(new RendezvousError(`rank ${options.rank}: ${where} is not a pgas rendezvous: ${answer}`));
            return;
          }
          registered = true;
          writeLine(socket, {
            t: 'register',
            auth: answer.toString('base64'),
            rank: options.rank,
            size: options.size,
            endpoint: options.endpoint,
            pid: options.pid ?? process.pid,
            hostname: options.hostname ?? osHostname(),
          });
        } else if (line.t === 'welcome') {
          const problem = handshake.confirm(Buffer.from(typeof line.data === 'string' ? line.data : '', 'base64'));
          if (problem !== undefined) {
            fail(new BadTokenError(`rank ${options.rank}: the rendezvous at ${where} did not prove the job token: ${problem}`));
            return;
          }
          welcomed = true;
        } else if (line.t === 'error') {
          const message = typeof line.message === 'string' ? line.message : 'refused';
          fail(line.code === 'ERR_BAD_TOKEN' ? new BadTokenError(message) : new RendezvousError(message));
        } else if (line.t === 'table') {
          if (!welcomed) {
            fail(new BadTokenError(`rank ${options.rank}: the rendezvous at ${where} sent a table without proving the job token`));
            return;
          }
          const members = checkTable(line.members, options.size);
          if (typeof members === 'string') {
            fail(new RendezvousError(`rank ${options.rank}: the rendezvous at ${where} sent a bad table: ${members}`));
            return;
          }
          settled = true;
          clearInterval(waiting);
          client = new RendezvousClient(socket, members, options);
          resolve(client);
        }
      },
      // Garbage after the table: drop the connection, which reports rank 0 (the rendezvous) lost.
      (why) => (client ? socket.destroy() : fail(new RendezvousError(`rank ${options.rank}: the rendezvous at ${where} sent ${why}`))),
    );
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (client) client.onClose();
      else fail(new RendezvousError(`rank ${options.rank}: the rendezvous at ${where} closed the connection before the job started (did rank 0 fail?)`));
    });
  });
}

function checkTable(members: unknown, size: number): Member[] | string {
  if (!Array.isArray(members) || members.length !== size) return `expected ${size} members`;
  for (let r = 0; r < size; r++) {
    const m = members[r] as Partial<Member> | undefined;
    if (!m || m.rank !== r || typeof m.endpoint !== 'string') return `entry ${r} is not rank ${r}'s`;
  }
  return members as Member[];
}

function connectWithRetry(host: string, port: number, deadline: number, where: string, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    let lastError = '';
    const attempt = (): void => {
      const socket = connect({ host, port });
      const onError = (error: Error): void => {
        socket.destroy();
        lastError = error.message;
        if (Date.now() + RETRY_MS > deadline) {
          reject(new RendezvousError(`could not reach the rendezvous at ${where} within ${timeoutMs} ms (${lastError}); is rank 0 running with the same PGAS_RENDEZVOUS?`));
        } else {
          setTimeout(attempt, RETRY_MS);
        }
      };
      socket.once('error', onError);
      socket.once('connect', () => {
        socket.off('error', onError);
        resolve(socket);
      });
    };
    attempt();
  });
}
