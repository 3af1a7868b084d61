/**
 * The communication engine of a uws rank, run by its worker thread: the data server, the links to
 * peers, the rendezvous (hosted here on rank 0, so that it and the heartbeats keep running while the
 * compute thread is busy), the ring of posted operations, and every way of shutting down.
 */
import { writeSync } from 'node:fs';
import { joinRendezvous, formatEndpoint, RendezvousServer, type RendezvousClient } from '../../bootstrap/index.js';
import { PgasError, RendezvousError, WireStatus } from '../../errors.js';
import { SharedState } from '../../shared-state.js';
import { FrameEncoder, MAX_HEADER_BYTES, PREFIX_BYTES } from '../../wire/index.js';
import {
  C_DOORBELL, C_EXIT, C_EXIT_DONE, C_HEAD, C_SLEEPING, C_TAIL, CHUNK_BYTES, CLOSE_LEAVING, E_LENGTH, E_LOCAL_OFFSET,
  E_LOCAL_SLOT, E_NOTIFICATION_ID, E_NOTIFICATION_VALUE, E_OP, E_QUEUE, E_RANK, E_REMOTE_OFFSET, E_REMOTE_SLOT, ENTRY_WORDS,
} from './layout.js';
import { scratchAllocator } from './buffers.js';
import { LINK_GONE, LINK_OPEN, type PeerLink } from './links.js';
import { LINK_CLOSE_WAIT_MS, LinkTable, type Waiter } from './link-table.js';
import type { FromWorker, ToWorker, WorkerInit } from './messages.js';
import { Origin } from './origin.js';
import { SegmentTable } from './segments.js';
import { DataServer } from './server.js';
import { Target } from './target.js';

const LINGER_POLL_MS = 20;
/** How long an exiting rank keeps answering connections accepted before its listener closed (see exitNow). */
const EXIT_SETTLE_MS = 50;

export class Engine {
  endpoint = '';
  private readonly shared: SharedState;
  private readonly ctl: Int32Array;
  private readonly ring: Int32Array;
  private readonly capacity: number;
  private readIndex = 0;
  private consumed = 0;
  private readonly segments: SegmentTable;
  private readonly origin: Origin;
  private readonly server: DataServer;
  /** the outgoing data links, opened on demand (link-table.ts) */
  private readonly table: LinkTable;
  private rendezvous: RendezvousServer | undefined;
  private bootstrap: RendezvousClient | undefined;
  /** segment announcements relayed through the rendezvous and not yet answered (request ids) */
  private readonly announcements = new Set<number>();
  /** peers whose close() has begun (they said so through the rendezvous, or on their link to this server) */
  private readonly peersLeaving = new Set<number>();
  private closing = false;
  private stopped = false;
  private readonly wake = (): void => this.onDoorbell();

  constructor(private readonly init: WorkerInit, private readonly post: (message: FromWorker, transfer?: ArrayBuffer[]) => void) {
    this.shared = SharedState.attach(init.shared);
    this.ctl = new Int32Array(init.ctl);
    this.ring = new Int32Array(init.ring);
    this.capacity = init.capacity;
    this.segments = new SegmentTable(this.shared.slots);
    this.origin = new Origin(this.shared, this.segments, {
      atomicDone: (req, status, value) => this.post({ t: 'atomic', req, status, value }),
      broken: (link, reason) => {
        this.log(`uws rank ${init.rank}: dropping the connection to rank ${link.rank}: ${reason}`);
        this.peerGone(link.rank, true);
      },
    });
    // The target's answers are built in one scratch buffer: uWS copies what it cannot send at once.
    const encoder = new FrameEncoder(scratchAllocator());
    const target = new Target(this.segments, this.shared, init.config, encoder, (from, data) => {
      this.post({ t: 'message', from, data }, [data.buffer as ArrayBuffer]);
    });
    this.server = new DataServer({
      rank: init.rank,
      size: init.size,
      token: init.token,
      tls: init.tls,
      authTimeoutMs: init.authTimeoutMs,
      maxMessageBytes: Math.max(CHUNK_BYTES, init.config.maxPassiveBytes) + PREFIX_BYTES + MAX_HEADER_BYTES,
      target,
      encoder,
      log: (line) => this.log(line),
      onPeerLeaving: (rank) => this.peersLeaving.add(rank),
    });
    this.table = new LinkTable({
      rank: init.rank,
      size: init.size,
      token: init.token,
      tls: init.tls,
      shared: this.shared,
      published: new Int32Array(init.linkState),
      onMessage: (link, data) => this.answer(link, data),
      onClose: (link, code) => this.linkClosed(link, code),
      connectTimeoutMs: init.startupTimeoutMs,
      unreachable: (rank, why) => {
        this.log(`uws rank ${init.rank}: ${why}; treating rank ${rank} as dead`);
        this.peerGone(rank, true);
      },
      uncork: () => this.origin.uncork(),
    });
    this.sleep();
  }

  log(line: string): void {
    if (!this.init.logToStderr) {
      this.post({ t: 'log', line });
      return;
    }
    try {
      writeSync(2, `${line}\n`);
    } catch {
      // stderr closed: nowhere left to report to
    }
  }

  /** Listen, meet the others at the rendezvous; eager: connect to every peer (lazy: on first use). */
  async start(): Promise<void> {
    const init = this.init;
    const port = await this.server.listen(init.listenHost).catch((error: Error) => {
      throw new RendezvousError(`rank ${init.rank}: cannot listen on ${init.listenHost} (PGAS_LISTEN_HOST): ${error.message}`);
    });
    this.endpoint = formatEndpoint(init.advertiseHost, port);
    const where = formatEndpoint(init.rendezvous.host, init.rendezvous.port);
    if (init.rank === 0) {
      this.rendezvous = await RendezvousServer.start({
        host: init.rendezvous.host,
        port: init.rendezvous.port,
        size: init.size,
        token: init.token,
        startupTimeoutMs: init.startupTimeoutMs,
        heartbeatMs: init.heartbeatMs,
        authTimeoutMs: init.authTimeoutMs,
        log: (line) => this.log(line),
      }).catch((error: Error) => {
        throw new RendezvousError(`rank 0 cannot host the rendezvous on ${where} (PGAS_RENDEZVOUS): ${error.message}`);
      });
    }
    const deadline = Date.now() + init.startupTimeoutMs;
    this.bootstrap = await joinRendezvous({
      host: init.rendezvous.host,
      port: init.rendezvous.port,
      rank: init.rank,
      size: init.size,
      token: init.token,
      endpoint: this.endpoint,
      startupTimeoutMs: init.startupTimeoutMs,
      heartbeatMs: init.heartbeatMs,
      onPeerDead: (rank) => this.onPeerDead(rank),
      onSegment: (rank, slot, bytes) => this.recordSegment(rank, slot, bytes),
      onAnnounced: (req, status) => {
        if (this.announcements.delete(req)) this.post({ t: 'done', req, status });
      },
      onPeerClosing: (rank) => this.peersLeaving.add(rank),
    });
    this.table.endpoints = this.bootstrap.members.map((m) => m.endpoint);
    if (init.connections === 'lazy') return;
    await Promise.all(this.bootstrap.members.filter((m) => m.rank !== init.rank && this.shared.alive(m.rank)).map(
      (m) => this.table.open(m.rank, Math.max(1000, deadline - Date.now())).catch((error: Error) => {
        throw new RendezvousError(`${error.message} (check PGAS_ADVERTISE_HOST of rank ${m.rank})`);
      }),
    ));
  }

  private onPeerDead(rank: number): void {
    this.peerGone(rank, true);
    // Rank 0 hosts the rendezvous: with it gone, no announcement can be answered any more.
    if (rank !== 0) return;
    for (const req of this.announcements) this.post({ t: 'done', req, status: WireStatus.PEER_DEAD });
    this.announcements.clear();
  }

  /** Another rank's segment announcement, relayed by the rendezvous: checked, then recorded in the directory. */
  private recordSegment(rank: number, slot: number, bytes: number): number {
    if (slot >= this.shared.slots || bytes > this.init.config.maxSegmentBytes) return WireStatus.INVALID;
    this.shared.setRemoteBytes(rank, slot, bytes);
    return WireStatus.OK;
  }

  private answer(link: PeerLink, data: Buffer): void {
    try {
      this.origin.answer(link, data);
    } catch (error) {
      this.log(`uws rank ${this.init.rank}: internal error on an answer from rank ${link.rank}: ${(error as Error).stack ?? String(error)}`);
      this.peerGone(link.rank, true);
    }
  }

  private linkClosed(link: PeerLink, code: number): void {
    // A link closed by disconnect (marked gone first), or one replaced since, says nothing about the peer.
    if (this.closing || link.state === LINK_GONE || this.table.links[link.rank] !== link) {
      link.state = LINK_GONE;
      return;
    }
    this.peerGone(link.rank, code !== CLOSE_LEAVING);
  }

  /**
   * A peer died (`dead`: it is marked dead for everyone on this rank) or left: whatever waits on it
   * fails with PEER_DEAD, and so does every later operation on it.
   */
  peerGone(rank: number, dead: boolean): void {
    if (dead) this.shared.markDead(rank);
    const link = this.table.links[rank];
    this.table.gone(rank, WireStatus.PEER_DEAD);
    if (!link) return;
    this.origin.failAll(link, WireStatus.PEER_DEAD);
    link.ws?.terminate();
  }

  // ---- the ring of posted operations ----------------------------------------------------------

  /** Wait (asynchronously) for the doorbell; see layout.ts for the handshake with the poster. */
  private sleep(): void {
    if (this.stopped) return;
    Atomics.store(this.ctl, C_SLEEPING, 1);
    // Read the bell before checking for work: a post after this read changes the bell, so the wait
    // below cannot miss it.
    const bell = Atomics.load(this.ctl, C_DOORBELL);
    if (Atomics.load(this.ctl, C_HEAD) !== this.consumed || Atomics.load(this.ctl, C_EXIT) !== 0) {
      setImmediate(this.wake);
      return;
    }
    const result = Atomics.waitAsync(this.ctl, C_DOORBELL, bell);
    if (result.async) void result.value.then(this.wake);
    else setImmediate(this.wake);
  }

  private onDoorbell(): void {
    Atomics.store(this.ctl, C_SLEEPING, 0);
    if (this.stopped) return;
    if (Atomics.load(this.ctl, C_EXIT) !== 0) {
      this.exitNow();
      return;
    }
    try {
      this.drain();
    } catch (error) {
      this.log(`uws rank ${this.init.rank}: internal error posting operations: ${(error as Error).stack ?? String(error)}`);
    }
    this.sleep();
  }

  /**
   * Take every published descriptor and send it; one for a peer without an open link waits (a copy)
   * while the link opens; fail it at once when the peer is gone or this rank closes.
   */
  private drain(): void {
    const ring = this.ring;
    let head = Atomics.load(this.ctl, C_HEAD);
    while (this.consumed !== head) {
      const b = this.readIndex * ENTRY_WORDS;
      const rank = ring[b + E_RANK]!;
      const link = this.table.ready(rank);
      if (this.closing) this.shared.complete(ring[b + E_QUEUE]!, WireStatus.CLOSED, rank);
      else if (link !== undefined) this.postEntry(link, ring, b);
      else this.table.whenOpen(rank, this.waitingEntry(ring.slice(b, b + ENTRY_WORDS)));
      this.readIndex = this.readIndex + 1 === this.capacity ? 0 : this.readIndex + 1;
      this.consumed = (this.consumed + 1) | 0;
      if (this.consumed === head) head = Atomics.load(this.ctl, C_HEAD);
    }
    Atomics.store(this.ctl, C_TAIL, this.consumed);
    this.origin.uncork();
  }

  private postEntry(link: PeerLink, words: Int32Array, b: number): void {
    this.origin.post(
      link, words[b + E_OP]!, words[b + E_QUEUE]!, words[b + E_LOCAL_SLOT]!, words[b + E_LOCAL_OFFSET]!, words[b + E_REMOTE_SLOT]!,
      words[b + E_REMOTE_OFFSET]!, words[b + E_LENGTH]!, words[b + E_NOTIFICATION_ID]!, words[b + E_NOTIFICATION_VALUE]!,
    );
  }

  /** A descriptor (copied out of the ring, whose slot is reused) waiting for its peer's link. */
  private waitingEntry(words: Int32Array): Waiter {
    return {
      send: (link) => this.postEntry(link, words, 0),
      fail: (status) => this.shared.complete(words[E_QUEUE]!, status, words[E_RANK]!),
    };
  }

  // ---- control messages from the compute thread -----------------------------------------------

  control(message: ToWorker): void {
    try {
      // What the compute thread posted before this message is in the ring already: take it first, so
      // that a disconnect (or an atomic, a send) comes after the operations posted before it.
      if (!this.stopped) this.drain();
      this.handleControl(message);
    } catch (error) {
      this.log(`uws rank ${this.init.rank}: internal error on '${message.t}': ${(error as Error).stack ?? String(error)}`);
    }
  }

  private handleControl(message: ToWorker): void {
    switch (message.t) {
      case 'segment':
        this.segments.add(message.slot, message.bytes, message.data, message.notifications, message.byteOffset ?? 0);
        this.announce(message.req, message.slot, message.bytes);
        break;
      case 'unsegment':
        this.segments.remove(message.slot);
        this.announce(message.req, message.slot, 0);
        break;
      case 'atomic': {
        const { req, op, slot, offset, a, b } = message;
        this.sendWhenOpen(message.rank, (link) => this.origin.atomic(link, req, op, slot, offset, a, b),
          (status) => this.post({ t: 'atomic', req, status, value: 0n }));
        break;
      }
      case 'send': {
        const { req, data } = message;
        this.sendWhenOpen(message.rank, (link) => {
          this.origin.message(link, data);
          this.post({ t: 'done', req, status: WireStatus.OK });
        }, (status) => this.post({ t: 'done', req, status }));
        break;
      }
      case 'connect': {
        const { req } = message;
        this.table.whenOpen(message.rank, {
          send: () => this.post({ t: 'done', req, status: WireStatus.OK }),
          fail: (status) => this.post({ t: 'done', req, status }),
        });
        break;
      }
      case 'disconnect': {
        const { req } = message;
        this.table.disconnect(message.rank, (status) => this.post({ t: 'done', req, status }));
        break;
      }
      case 'close':
        void this.close();
        break;
    }
  }

  /** An atomic or a passive message: out on rank's link once it is open (then uncorked at once). */
  private sendWhenOpen(rank: number, send: (link: PeerLink) => void, fail: (status: number) => void): void {
    this.table.whenOpen(rank, {
      send: (link) => {
        send(link);
        this.origin.uncork();
      },
      fail,
    });
  }

  /**
   * Tell every other rank a segment's size through the rendezvous (so that no data link is needed);
   * answer the compute thread once every live rank has recorded it. (A rank that died or left no longer
   * needs the size: the rendezvous stops waiting for it.)
   */
  private announce(req: number, slot: number, bytes: number): void {
    if (this.closing || !this.bootstrap?.announce(req, slot, bytes)) {
      this.post({ t: 'done', req, status: this.closing ? WireStatus.CLOSED : WireStatus.OK });
      return;
    }
    this.announcements.add(req);
  }

  // ---- shutting down --------------------------------------------------------------------------

  /**
   * Clean close: fail what is pending with CLOSED and close this rank's outgoing connections (peers
   * learn that it sends no more); then keep serving what peers ask of this rank's memory until every
   * live peer has begun its own close (or died), as its memory stays reachable on the threads
   * transport; then leave the rendezvous (rank 0: once every rank has left it) and close the server.
   */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.drain();
    this.table.failQueued();
    const closed: Promise<void>[] = [];
    for (const link of this.table.links) {
      if (!link) continue;
      this.origin.failAll(link, WireStatus.CLOSED);
      const ws = link.ws;
      if (link.state === LINK_OPEN && ws) {
        closed.push(new Promise<void>((resolve) => {
          ws.once('close', () => resolve());
          const timer = setTimeout(() => ws.terminate(), LINK_CLOSE_WAIT_MS);
          timer.unref();
        }));
        ws.close(CLOSE_LEAVING, 'leaving');
      } else {
        ws?.terminate();
      }
      link.state = LINK_GONE;
    }
    for (const req of this.announcements) this.post({ t: 'done', req, status: WireStatus.CLOSED });
    this.announcements.clear();
    await Promise.all(closed);
    // Peers this rank never connected to learn it through the rendezvous that it sends no more.
    this.bootstrap?.closing();
    await this.linger();
    this.bootstrap?.leave();
    this.server.close();
    await this.server.drained(LINK_CLOSE_WAIT_MS);
    if (this.rendezvous) {
      await this.rendezvous.whenEmpty();
      await this.rendezvous.close();
    }
    this.stop();
    this.post({ t: 'closed' });
  }

  /** Until every peer is closing or dead (the rendezvous's heartbeat settles a peer that hangs). */
  private async linger(): Promise<void> {
    const waiting = (): boolean => {
      for (let r = 0; r < this.init.size; r++) {
        if (r !== this.init.rank && this.shared.alive(r) && !this.peersLeaving.has(r)) return true;
      }
      return false;
    };
    while (waiting() && !this.stopped) await new Promise((resolve) => setTimeout(resolve, LINGER_POLL_MS));
  }

  /** Startup failed: close everything without ceremony (the job never started). */
  async abort(): Promise<void> {
    this.closing = true;
    this.bootstrap?.destroy();
    for (const link of this.table.links) link?.ws?.terminate();
    this.server.closeNow();
    await this.rendezvous?.close();
    this.stop();
  }

  /** The process is exiting (the main thread's 'exit' handler waits for this): close uWS now. */
  private exitNow(): void {
    this.stopped = true;
    this.server.closeNow();
    // A peer may have connected just before the listener closed, its upgrade request still on the way.
    // If it arrived while Node tears this thread down, uWS could not call the (refusing) upgrade handler
    // and would abort the process, turning the rank's exit status into SIGABRT. Keep the loop running
    // a moment so such requests are answered (503) first; the main thread waits up to EXIT_WAIT_MS.
    setTimeout(() => {
      Atomics.store(this.ctl, C_EXIT_DONE, 1);
      Atomics.notify(this.ctl, C_EXIT_DONE);
    }, EXIT_SETTLE_MS);
  }

  /**
   * uWS is closed: no more doorbell (wake the pending wait so that nothing keeps the thread alive), and
   * the main thread's exit handler has nothing left to wait for.
   */
  private stop(): void {
    this.stopped = true;
    Atomics.store(this.ctl, C_EXIT_DONE, 1);
    Atomics.notify(this.ctl, C_EXIT_DONE);
    Atomics.add(this.ctl, C_DOORBELL, 1);
    Atomics.notify(this.ctl, C_DOORBELL);
  }
}

/** Error code and message for the compute thread, whatever was thrown. */
export function describeError(error: unknown): { code: string; message: string } {
  if (error instanceof PgasError) return { code: error.code, message: error.message };
  return { code: 'ERR_RENDEZVOUS', message: (error as Error)?.message ?? String(error) };
}
