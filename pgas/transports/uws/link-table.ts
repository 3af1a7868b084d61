/**
 * A uws rank's outgoing data links, one per peer, opened on demand (or all at start, eager mode) and
 * closable (GASPI connect / disconnect).
 *
 * An operation for a peer whose link is not open yet waits in that peer's queue, in posting order,
 * while the link opens; then everything queued goes out on it in the same order, before anything
 * posted later (so put-then-notify to one rank keeps its order across the connect). Disconnect closes
 * a link only once every request sent on it is answered; what is posted meanwhile waits and opens a
 * fresh link afterwards. The state of every link is published in shared memory for `connections()`.
 */
import { WireStatus } from '../../errors.js';
import type { SharedState } from '../../shared-state.js';
import { readCa, type TlsFiles } from '../../auth/index.js';
import { MAX_HEADER_BYTES, PREFIX_BYTES } from '../../wire/index.js';
import { CHUNK_BYTES, CLOSE_DISCONNECT } from './layout.js';
import { connectLink, LINK_CONNECTING, LINK_GONE, LINK_OPEN, PeerLink } from './links.js';

/** Something waiting for a peer's link: an operation, a connect() or a disconnect(). */
export interface Waiter {
  /** the link is open: go out on it now */
  send(link: PeerLink): void;
  /** it will not open: PEER_DEAD (the peer died, left or cannot be reached) or CLOSED (this rank is closing) */
  fail(status: number): void;
}

/** Published link states (LinkTableOptions.published, read by UwsTransport.connections()). */
export const PUBLISHED_NONE = 0;
export const PUBLISHED_CONNECTING = 1;
export const PUBLISHED_OPEN = 2;

const CONNECT_ATTEMPTS = 3;
const RETRY_DELAY_MS = 100;
/** How long a disconnect waits for the peer to complete the WebSocket close before cutting the socket. */
export const LINK_CLOSE_WAIT_MS = 1000;

export interface LinkTableOptions {
  rank: number;
  size: number;
  token: string;
  tls: TlsFiles | undefined;
  shared: SharedState;
  /** one Int32 per rank, written here: PUBLISHED_* */
  published: Int32Array;
  onMessage: (link: PeerLink, data: Buffer) => void;
  onClose: (link: PeerLink, code: number) => void;
  /** how long one attempt to open a link may take (WebSocket upgrade and token handshake) */
  connectTimeoutMs: number;
  /** a link opened on demand could not be opened (the engine treats the peer as dead) */
  unreachable: (rank: number, why: string) => void;
  /** a batch of sends on links ended (the origin uncorks their sockets) */
  uncork: () => void;
}

export class LinkTable {
  readonly links: (PeerLink | undefined)[];
  /** host:port of every rank's data server (from the rendezvous table) */
  endpoints: readonly string[] = [];
  /** set by the engine's close(): nothing opens any more, whatever waits fails with CLOSED */
  closing = false;
  /** per rank: what waits for its link; present exactly while the link is opening or being closed */
  private readonly queues: (Waiter[] | undefined)[];
  /** per link: what waits until every request sent on it is answered */
  private readonly idleWaiters = new Map<PeerLink, (() => void)[]>();
  /** the CA bundle trusted for wss:// links, read on the first open (null: not read yet) */
  private ca: Buffer | undefined | null = null;

  constructor(private readonly options: LinkTableOptions) {
    this.links = new Array<PeerLink | undefined>(options.size).fill(undefined);
    this.queues = new Array<Waiter[] | undefined>(options.size).fill(undefined);
  }

  /** The link to send on now: open, with nothing queued before it (the hot path of every post). */
  ready(rank: number): PeerLink | undefined {
    const link = this.links[rank];
    return link !== undefined && link.state === LINK_OPEN && this.queues[rank] === undefined ? link : undefined;
  }

  /** Send `waiter` on rank's link as soon as it is open (now, if it is), opening it if there is none. */
  whenOpen(rank: number, waiter: Waiter): void {
    if (this.closing) return waiter.fail(WireStatus.CLOSED);
    const link = this.ready(rank);
    if (link) return waiter.send(link);
    const queue = this.queues[rank];
    if (queue) {
      queue.push(waiter);
      return;
    }
    if (this.links[rank]?.state === LINK_GONE || !this.options.shared.alive(rank)) return waiter.fail(WireStatus.PEER_DEAD);
    this.queues[rank] = [waiter];
    this.openOnDemand(rank);
  }

  private openOnDemand(rank: number): void {
    this.open(rank).catch((error: Error) => this.options.unreachable(rank, error.message));
  }

  /**
   * Open rank's link (retrying a few times), then send what queued meanwhile. Rejects with the reason
   * if it cannot be opened; whatever waited then fails with PEER_DEAD.
   */
  async open(rank: number, timeoutMs = this.options.connectTimeoutMs): Promise<void> {
    const link = new PeerLink(rank);
    this.links[rank] = link;
    this.queues[rank] ??= [];
    this.publish(rank);
    const endpoint = this.endpoints[rank];
    let lastError = '';
    for (let attempt = 0; attempt < CONNECT_ATTEMPTS; attempt++) {
      if (link.state === LINK_GONE || this.closing) return; // declared dead or closing meanwhile: already failed
      try {
        if (this.ca === null) this.ca = this.options.tls ? readCa(this.options.tls) : undefined;
        await connectLink(link, {
          url: `${this.options.tls ? 'wss' : 'ws'}://${endpoint}/pgas`,
          token: this.options.token,
          rank: this.options.rank,
          peerRank: rank,
          ca: this.ca,
          maxPayload: CHUNK_BYTES + PREFIX_BYTES + MAX_HEADER_BYTES,
          timeoutMs: Math.max(1000, timeoutMs),
          onMessage: (l, data) => this.received(l, data),
          onClose: (l, code) => this.options.onClose(l, code),
        });
        this.flush(link);
        return;
      } catch (error) {
        lastError = (error as Error).message;
        await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS));
      }
    }
    if (this.links[rank] === link && link.state !== LINK_GONE) {
      // Dead in the health vector before the waiters fail: a caller whose connect() just failed with
      // PEER_DEAD must already see isAlive(rank) false (the unreachable callback comes after).
      this.options.shared.markDead(rank);
      this.gone(rank, WireStatus.PEER_DEAD);
    }
    throw new Error(`rank ${this.options.rank} cannot open a data connection to rank ${rank} at ${endpoint}: ${lastError}`);
  }

  /** The link opened: what queued goes out in order (a disconnect among it queues the rest again). */
  private flush(link: PeerLink): void {
    const rank = link.rank;
    if (this.links[rank] !== link || link.state !== LINK_OPEN) {
      link.ws?.terminate();
      return;
    }
    const queue = this.queues[rank] ?? [];
    this.queues[rank] = undefined;
    this.publish(rank);
    for (let i = 0; i < queue.length; i++) {
      const again = this.queues[rank] as Waiter[] | undefined; // a disconnect just sent may have queued again
      if (again) {
        again.push(...queue.slice(i));
        break;
      }
      queue[i]!.send(link);
    }
    this.options.uncork();
  }

  private received(link: PeerLink, data: Buffer): void {
    this.options.onMessage(link, data);
    if (link.pending.count === 0) this.wakeIdle(link);
  }

  private wakeIdle(link: PeerLink): void {
    const waiters = this.idleWaiters.get(link);
    if (!waiters) return;
    this.idleWaiters.delete(link);
    for (const w of waiters) w();
  }

  /**
   * GASPI disconnect: close rank's link once every request sent on it is answered (they complete as
   * usual, or fail typed if the peer dies meanwhile). Operations posted meanwhile wait and reopen it.
   * `done` gets OK, or CLOSED if this rank closes first.
   */
  disconnect(rank: number, done: (status: number) => void): void {
    const link = this.links[rank];
    if ((link === undefined || link.state === LINK_GONE) && this.queues[rank] === undefined) return done(WireStatus.OK);
    this.whenOpen(rank, {
      send: (open) => this.closeWhenIdle(open, done),
      fail: (status) => done(status === WireStatus.PEER_DEAD ? WireStatus.OK : status),
    });
  }

  private closeWhenIdle(link: PeerLink, done: (status: number) => void): void {
    const rank = link.rank;
    this.queues[rank] ??= []; // later operations wait for the next link
    const close = (): void => {
      if (link.state !== LINK_OPEN || this.links[rank] !== link) return done(this.closing ? WireStatus.CLOSED : WireStatus.OK);
      // Marked gone first, so that the close is not taken for the peer's death.
      link.state = LINK_GONE;
      const ws = link.ws!;
      const timer = setTimeout(() => ws.terminate(), LINK_CLOSE_WAIT_MS);
      ws.once('close', () => {
        clearTimeout(timer);
        const queue = this.queues[rank];
        // (No queue: the peer died or this rank closed meanwhile, and the link stays marked gone.)
        if (this.links[rank] === link && queue) this.links[rank] = undefined;
        this.publish(rank);
        if (queue && queue.length > 0 && !this.closing) {
          this.openOnDemand(rank);
        } else {
          this.queues[rank] = undefined;
        }
        done(WireStatus.OK);
      });
      ws.close(CLOSE_DISCONNECT, 'disconnect');
    };
    if (link.pending.count === 0) close();
    else this.idleWaiters.set(link, [...(this.idleWaiters.get(link) ?? []), close]);
  }

  /** rank's link is gone for good (the peer died or left): whatever waits for it fails with `status`. */
  gone(rank: number, status: number): void {
    const link = this.links[rank];
    if (link) {
      link.state = LINK_GONE;
      this.wakeIdle(link);
    }
    const queue = this.queues[rank];
    this.queues[rank] = undefined;
    this.publish(rank);
    if (queue) for (const w of queue) w.fail(status);
  }

  /** This rank closes: every queue fails with CLOSED. */
  failQueued(): void {
    this.closing = true;
    for (let rank = 0; rank < this.queues.length; rank++) {
      const queue = this.queues[rank];
      this.queues[rank] = undefined;
      if (queue) for (const w of queue) w.fail(WireStatus.CLOSED);
    }
  }

  private publish(rank: number): void {
    const state = this.links[rank]?.state;
    const value = state === LINK_OPEN ? PUBLISHED_OPEN : state === LINK_CONNECTING ? PUBLISHED_CONNECTING : PUBLISHED_NONE;
    Atomics.store(this.options.published, rank, value);
  }
}
