/**
 * The communication engine of a uws rank, run by its worker thread: the data server, the links to
 * peers, the rendezvous (hosted here on rank 0, so that it and the heartbeats keep running while the
 * compute thread is busy), the ring of posted operations, and every way of shutting down.
 */
import { writeSync } from 'node:fs';
import { joinRendezvous, formatEndpoint, RendezvousServer, type RendezvousClient } from '../../bootstrap/index.js';
import { PgasError, RendezvousError, WireStatus } from '../../errors.js';
import { SharedState } from '../../shared-state.js';
import { readCa } from '../../auth/index.js';
import { FrameEncoder, MAX_HEADER_BYTES, PREFIX_BYTES } from '../../wire/index.js';
import {
  C_DOORBELL, C_EXIT, C_EXIT_DONE, C_HEAD, C_SLEEPING, C_TAIL, CHUNK_BYTES, CLOSE_LEAVING, E_LENGTH, E_LOCAL_OFFSET,
  E_LOCAL_SLOT, E_NOTIFICATION_ID, E_NOTIFICATION_VALUE, E_OP, E_QUEUE, E_RANK, E_REMOTE_OFFSET, E_REMOTE_SLOT, ENTRY_WORDS,
} from './layout.js';
import { scratchAllocator } from './buffers.js';
import { connectLink, LINK_GONE, LINK_OPEN, PeerLink } from './links.js';
import type { FromWorker, ToWorker, WorkerInit } from './messages.js';
import { Origin } from './origin.js';
import { SegmentTable } from './segments.js';
import { DataServer } from './server.js';
import { Target } from './target.js';

const CONNECT_ATTEMPTS = 3;
const LINK_CLOSE_WAIT_MS = 1000;
const LINGER_POLL_MS = 20;

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
  private readonly links: (PeerLink | undefined)[];
  private rendezvous: RendezvousServer | undefined;
  private bootstrap: RendezvousClient | undefined;
  /** segment announcements waiting for peers: request id -> [peers still to answer, first failure] */
  private readonly announcements = new Map<number, [number, number]>();
  /** peers whose close() has begun (they closed their connection to this rank's server, saying so) */
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
    this.links = new Array<PeerLink | undefined>(init.size).fill(undefined);
    this.origin = new Origin(this.shared, this.segments, {
      atomicDone: (req, status, value) => this.post({ t: 'atomic', req, status, value }),
      segmentAnswered: (req, status) => this.segmentAnswered(req, status),
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

  /** Listen, meet the others at the rendezvous, connect to every peer. */
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
      onPeerDead: (rank) => this.peerGone(rank, true),
    });
    const members = this.bootstrap.members;
    await Promise.all(members.filter((m) => m.rank !== init.rank).map((m) => this.connect(m.rank, m.endpoint, deadline)));
  }

  private async connect(rank: number, endpoint: string, deadline: number): Promise<void> {
    const link = new PeerLink(rank);
    this.links[rank] = link;
    if (!this.shared.alive(rank)) {
      link.state = LINK_GONE;
      return;
    }
    let lastError = '';
    const ca = this.init.tls ? readCa(this.init.tls) : undefined;
    for (let attempt = 0; attempt < CONNECT_ATTEMPTS; attempt++) {
      try {
        await connectLink(link, {
          url: `${this.init.tls ? 'wss' : 'ws'}://${endpoint}/pgas`,
          token: this.init.token,
          rank: this.init.rank,
          peerRank: rank,
          ca,
          maxPayload: CHUNK_BYTES + PREFIX_BYTES + MAX_HEADER_BYTES,
          timeoutMs: Math.max(1000, deadline - Date.now()),
          onMessage: (l, data) => this.answer(l, data),
          onClose: (l, code) => this.linkClosed(l, code),
        });
        return;
      } catch (error) {
        if (link.state === LINK_GONE || this.closing) return; // declared dead meanwhile
        lastError = (error as Error).message;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    throw new RendezvousError(`rank ${this.init.rank} cannot open a data connection to rank ${rank} at ${endpoint}: ${lastError} (check PGAS_ADVERTISE_HOST of rank ${rank})`);
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
    if (this.closing || link.state === LINK_GONE) {
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
    const link = this.links[rank];
    if (!link || link.state === LINK_GONE) return;
    link.state = LINK_GONE;
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

  /** Take every published descriptor and send it (or fail it at once: peer gone, closing). */
  private drain(): void {
    const ring = this.ring;
    let head = Atomics.load(this.ctl, C_HEAD);
    while (this.consumed !== head) {
      const b = this.readIndex * ENTRY_WORDS;
      const queue = ring[b + E_QUEUE]!;
      const rank = ring[b + E_RANK]!;
      const link = this.links[rank];
      if (this.closing) {
        this.shared.complete(queue, WireStatus.CLOSED, rank);
      } else if (link === undefined || link.state !== LINK_OPEN) {
        this.shared.complete(queue, WireStatus.PEER_DEAD, rank);
      } else {
        this.origin.post(
          link, ring[b + E_OP]!, queue, ring[b + E_LOCAL_SLOT]!, ring[b + E_LOCAL_OFFSET]!, ring[b + E_REMOTE_SLOT]!,
          ring[b + E_REMOTE_OFFSET]!, ring[b + E_LENGTH]!, ring[b + E_NOTIFICATION_ID]!, ring[b + E_NOTIFICATION_VALUE]!,
        );
      }
      this.readIndex = this.readIndex + 1 === this.capacity ? 0 : this.readIndex + 1;
      this.consumed = (this.consumed + 1) | 0;
      if (this.consumed === head) head = Atomics.load(this.ctl, C_HEAD);
    }
    Atomics.store(this.ctl, C_TAIL, this.consumed);
    this.origin.uncork();
  }

  // ---- control messages from the compute thread -----------------------------------------------

  control(message: ToWorker): void {
    try {
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
        const link = this.links[message.rank];
        if (this.closing || !link || link.state !== LINK_OPEN) {
          this.post({ t: 'atomic', req: message.req, status: this.closing ? WireStatus.CLOSED : WireStatus.PEER_DEAD, value: 0n });
        } else {
          this.origin.atomic(link, message.req, message.op, message.slot, message.offset, message.a, message.b);
          this.origin.uncork();
        }
        break;
      }
      case 'send': {
        const link = this.links[message.rank];
        if (this.closing || !link || link.state !== LINK_OPEN) {
          this.post({ t: 'done', req: message.req, status: this.closing ? WireStatus.CLOSED : WireStatus.PEER_DEAD });
        } else {
          this.origin.message(link, message.data);
          this.origin.uncork();
          this.post({ t: 'done', req: message.req, status: WireStatus.OK });
        }
        break;
      }
      case 'close':
        void this.close();
        break;
    }
  }

  /** Tell every open peer a segment's size; answer the compute thread once all have recorded it. */
  private announce(req: number, slot: number, bytes: number): void {
    let waiting = 0;
    for (const link of this.links) {
      if (!link || link.state !== LINK_OPEN) continue;
      this.origin.announce(link, req, slot, bytes);
      waiting++;
    }
    this.origin.uncork();
    if (waiting === 0) this.post({ t: 'done', req, status: WireStatus.OK });
    else this.announcements.set(req, [waiting, WireStatus.OK]);
  }

  private segmentAnswered(req: number, status: number): void {
    const entry = this.announcements.get(req);
    if (!entry) return;
    // A peer that died or left no longer needs the size: that is not a failure of the announcement.
    if (status !== WireStatus.OK && status !== WireStatus.PEER_DEAD && entry[1] === WireStatus.OK) entry[1] = status;
    if (--entry[0] === 0) {
      this.announcements.delete(req);
      this.post({ t: 'done', req, status: entry[1] });
    }
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
    const closed: Promise<void>[] = [];
    for (const link of this.links) {
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
    for (const req of [...this.announcements.keys()]) this.post({ t: 'done', req, status: WireStatus.CLOSED });
    this.announcements.clear();
    await Promise.all(closed);
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
    for (const link of this.links) link?.ws?.terminate();
    this.server.closeNow();
    await this.rendezvous?.close();
    this.stop();
  }

  /** The process is exiting (the main thread's 'exit' handler waits for this): close uWS now. */
  private exitNow(): void {
    this.stopped = true;
    this.server.closeNow();
    Atomics.store(this.ctl, C_EXIT_DONE, 1);
    Atomics.notify(this.ctl, C_EXIT_DONE);
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
