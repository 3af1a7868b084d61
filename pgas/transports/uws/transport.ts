/**
 * The compute-thread half of the uws transport. Posting an operation writes one descriptor into the
 * shared ring and rings the doorbell only if the worker sleeps: no postMessage, no allocation.
 * Completions arrive in SharedState's queue words, written by the worker. Control traffic (segments,
 * atomics, passive messages, close) uses postMessage.
 */
import { Worker } from 'node:worker_threads';
import type { PgasConfig } from '../../config.js';
import {
  BadTokenError, ClosedError, ConfigError, InvalidArgumentError, PeerDeadError, PgasError, RendezvousError,
  UnknownSegmentError, WireStatus, errorFromStatus,
} from '../../errors.js';
import { notificationWordCount } from '../../notifications.js';
import { SharedState } from '../../shared-state.js';
import { PassiveInbox } from '../../passive-inbox.js';
import { Op, type LocalSegment, type PassiveMessage, type Transport } from '../../transport.js';
import {
  C_DOORBELL, C_EXIT, C_EXIT_DONE, C_HEAD, C_SLEEPING, CTL_WORDS, E_LENGTH, E_LOCAL_OFFSET, E_LOCAL_SLOT,
  E_NOTIFICATION_ID, E_NOTIFICATION_VALUE, E_OP, E_QUEUE, E_RANK, E_REMOTE_OFFSET, E_REMOTE_SLOT, ENTRY_WORDS, EXIT_WAIT_MS,
} from './layout.js';
import type { FromWorker, ToWorker, WorkerInit } from './messages.js';
import { authTimeoutMs, tlsFromEnvironment, type TlsFiles } from '../../auth/index.js';
import { DEFAULT_CONNECTIONS, type ConnectionMode } from '../../env.js';
import { PUBLISHED_OPEN } from './link-table.js';

export interface UwsTransportOptions {
  rank: number;
  size: number;
  config: PgasConfig;
  token: string;
  /** TLS certificate, key and CA files; default: PGAS_TLS_CERT / PGAS_TLS_KEY / PGAS_TLS_CA (pgas/auth/tls.ts) */
  tls?: TlsFiles;
  /** how long an incoming connection may take to prove the token; default PGAS_AUTH_TIMEOUT_MS or 10 s */
  authTimeoutMs?: number;
  rendezvous: { host: string; port: number };
  listenHost: string;
  advertiseHost: string;
  startupTimeoutMs: number;
  heartbeatMs: number;
  /** open data links on first use of a rank (default) or all at start (env.ts PGAS_CONNECTIONS) */
  connections?: ConnectionMode;
  /** where to log transport events (bad tokens, malformed frames, deaths); default stderr */
  log?: (line: string) => void;
}

interface Request {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  rank: number;
  what: string;
}

/** How long close() waits for the worker to end once it reported its sockets closed. */
const CLOSE_TIMEOUT_MS = 5000;

export class UwsTransport implements Transport {
  readonly kind = 'uws' as const;
  readonly rank: number;
  readonly size: number;
  readonly config: PgasConfig;
  readonly shared: SharedState;
  /** when data links open: on first use of a rank, or all at start */
  readonly connectionMode: ConnectionMode;
  /** host:port of this rank's data server, as peers dial it */
  endpoint = '';
  /** per rank: the state of this rank's data link to it, written by the worker (link-table.ts) */
  private readonly linkState: Int32Array;
  private readonly worker: Worker;
  private readonly ctl: Int32Array;
  private readonly ring: Int32Array;
  private readonly capacity: number;
  private writeIndex = 0;
  private published = 0;
  private readonly log: (line: string) => void;
  private readonly local = new Map<number, LocalSegment>();
  private readonly requests = new Map<number, Request>();
  private nextRequest = 1;
  private readonly inbox = new PassiveInbox();
  private closed = false;
  private closing: Promise<void> | undefined;
  private workerExited = false;
  private readonly exited: Promise<number>;
  private startup: { resolve: () => void; reject: (error: Error) => void } | undefined;
  /** resolves when the worker reports that it closed everything (or when it exited) */
  private readonly workerClosed: Promise<void>;
  private onWorkerClosed: () => void = () => undefined;
  private readonly onProcessExit = (): void => this.closeUwsBeforeExit();

  private constructor(options: UwsTransportOptions) {
    this.rank = options.rank;
    this.size = options.size;
    this.config = options.config;
    this.log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
    this.shared = SharedState.create(options.size, options.config);
    this.capacity = this.shared.queueCount * options.config.queueDepth;
    this.ctl = new Int32Array(new SharedArrayBuffer(CTL_WORDS * 4));
    this.ring = new Int32Array(new SharedArrayBuffer(this.capacity * ENTRY_WORDS * 4));
    this.connectionMode = options.connections ?? DEFAULT_CONNECTIONS;
    this.linkState = new Int32Array(new SharedArrayBuffer(4 * options.size));
    const init: WorkerInit = {
      rank: options.rank,
      size: options.size,
      config: options.config,
      token: options.token,
      tls: options.tls ?? tlsFromEnvironment(),
      authTimeoutMs: options.authTimeoutMs ?? authTimeoutMs(),
      rendezvous: options.rendezvous,
      listenHost: options.listenHost,
      advertiseHost: options.advertiseHost,
      startupTimeoutMs: options.startupTimeoutMs,
      heartbeatMs: options.heartbeatMs,
      shared: this.shared.toInit(),
      ctl: this.ctl.buffer as SharedArrayBuffer,
      ring: this.ring.buffer as SharedArrayBuffer,
      capacity: this.capacity,
      connections: this.connectionMode,
      linkState: this.linkState.buffer as SharedArrayBuffer,
      logToStderr: options.log === undefined,
    };
    this.worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: init });
    // A process that exits (process.exit, an uncaught error) while the worker has uWS sockets open
    // aborts with "uv_loop_close() while having open handles": close them first (DESIGN.md).
    process.on('exit', this.onProcessExit);
    this.worker.on('message', (message: FromWorker) => this.onMessage(message));
    this.worker.on('error', (error) => this.log(`uws rank ${this.rank}: communication worker failed: ${error.stack ?? error.message}`));
    this.workerClosed = new Promise((resolve) => {
      this.onWorkerClosed = resolve;
    });
    this.exited = new Promise((resolve) => {
      this.worker.once('exit', (code) => {
        this.onWorkerClosed();
        this.workerExited = true;
        process.off('exit', this.onProcessExit);
        this.afterWorkerExit(code);
        resolve(code);
      });
    });
  }

  /** Start the worker, meet the other ranks, connect to all of them. */
  static async create(options: UwsTransportOptions): Promise<UwsTransport> {
    checkOptions(options);
    const transport = new UwsTransport(options);
    await new Promise<void>((resolve, reject) => {
      transport.startup = { resolve, reject };
    });
    return transport;
  }

  private onMessage(message: FromWorker): void {
    switch (message.t) {
      case 'ready':
        this.endpoint = message.endpoint;
        this.startup?.resolve();
        this.startup = undefined;
        break;
      case 'failed':
        this.closed = true;
        this.startup?.reject(startupError(message.code, message.message));
        this.startup = undefined;
        break;
      case 'done':
      case 'atomic': {
        const request = this.requests.get(message.req);
        if (!request) break;
        this.requests.delete(message.req);
        if (message.status !== WireStatus.OK) request.reject(errorFromStatus(message.status, request.rank, request.what));
        else request.resolve(message.t === 'atomic' ? message.value : undefined);
        break;
      }
      case 'message':
        this.inbox.deliver({ rank: message.from, data: message.data });
        break;
      case 'log':
        this.log(message.line);
        break;
      case 'closed':
        this.onWorkerClosed();
        break;
    }
  }

  private request<T>(rank: number, what: string, build: (req: number) => ToWorker, transfer?: ArrayBuffer[]): Promise<T> {
    if (this.closed) return Promise.reject(new ClosedError(`${what}: the uws transport of rank ${this.rank} is closed`));
    const req = this.nextRequest++;
    return new Promise<T>((resolve, reject) => {
      this.requests.set(req, { resolve: resolve as (value: unknown) => void, reject, rank, what });
      this.worker.postMessage(build(req), transfer);
    });
  }

  async createSegment(slot: number, bytes: number): Promise<LocalSegment> {
    return this.publish(slot, new SharedArrayBuffer(bytes), 0, bytes);
  }

  /** A segment over a region of the program's own SharedArrayBuffer (the worker copies straight into it). */
  bindSegment(slot: number, data: SharedArrayBuffer, byteOffset: number, bytes: number): Promise<LocalSegment> {
    return this.publish(slot, data, byteOffset, bytes);
  }

  private async publish(slot: number, data: SharedArrayBuffer, byteOffset: number, bytes: number): Promise<LocalSegment> {
    if (this.closed) throw new ClosedError(`createSegment: the uws transport of rank ${this.rank} is closed`);
    const notifications = new SharedArrayBuffer(4 * notificationWordCount(this.config.notificationsPerSegment));
    const segment: LocalSegment = { id: slot, bytes, data, notifications, byteOffset };
    this.local.set(slot, segment);
    this.shared.setRemoteBytes(this.rank, slot, bytes);
    // Rank 0 named in errors: announcements travel through the rendezvous it hosts.
    await this.request<void>(0, `createSegment ${slot}`, (req) => ({ t: 'segment', req, slot, bytes, byteOffset, data, notifications }));
    return segment;
  }

  async deleteSegment(slot: number): Promise<void> {
    if (!this.local.delete(slot)) throw new UnknownSegmentError(`segment ${slot} does not exist on rank ${this.rank}`);
    this.shared.setRemoteBytes(this.rank, slot, 0);
    await this.request<void>(0, `deleteSegment ${slot}`, (req) => ({ t: 'unsegment', req, slot }));
  }

  localSegment(slot: number): LocalSegment | undefined {
    return this.local.get(slot);
  }

  post(
    op: Op, queue: number, localSlot: number, localOffset: number, rank: number, remoteSlot: number,
    remoteOffset: number, length: number, notificationId: number, notificationValue: number,
  ): void {
    if (this.closed) {
      this.shared.complete(queue, WireStatus.CLOSED, rank);
      return;
    }
    const ring = this.ring;
    const b = this.writeIndex * ENTRY_WORDS;
    ring[b + E_OP] = op;
    ring[b + E_QUEUE] = queue;
    ring[b + E_LOCAL_SLOT] = localSlot;
    ring[b + E_LOCAL_OFFSET] = localOffset;
    ring[b + E_RANK] = rank;
    ring[b + E_REMOTE_SLOT] = remoteSlot;
    ring[b + E_REMOTE_OFFSET] = remoteOffset;
    ring[b + E_LENGTH] = length;
    ring[b + E_NOTIFICATION_ID] = notificationId;
    ring[b + E_NOTIFICATION_VALUE] = notificationValue;
    this.writeIndex = this.writeIndex + 1 === this.capacity ? 0 : this.writeIndex + 1;
    this.published = (this.published + 1) | 0;
    // The store publishes the descriptor (Atomics are sequentially consistent).
    Atomics.store(this.ctl, C_HEAD, this.published);
    if (Atomics.load(this.ctl, C_SLEEPING) !== 0) {
      Atomics.add(this.ctl, C_DOORBELL, 1);
      Atomics.notify(this.ctl, C_DOORBELL);
    }
  }

  async atomic(op: Op, rank: number, slot: number, offset: number, a: bigint, b: bigint): Promise<bigint> {
    if (this.closed) throw new ClosedError(`atomic: the uws transport of rank ${this.rank} is closed`);
    if (op !== Op.FETCH_ADD && op !== Op.COMPARE_SWAP) throw new InvalidArgumentError(`atomic: op ${op} is not FETCH_ADD or COMPARE_SWAP`);
    if (rank === this.rank) return this.localAtomic(op, slot, offset, a, b);
    if (!this.shared.alive(rank)) throw new PeerDeadError(rank, `atomic: rank ${rank} is dead`);
    return this.request<bigint>(rank, `atomic on rank ${rank}`, (req) => ({ t: 'atomic', req, op, rank, slot, offset, a, b }));
  }

  private localAtomic(op: Op, slot: number, offset: number, a: bigint, b: bigint): bigint {
    const segment = this.local.get(slot);
    if (!segment) throw new UnknownSegmentError(`atomic: rank ${this.rank} has no segment ${slot}`);
    if (!Number.isInteger(offset) || offset < 0 || offset % 8 !== 0 || offset + 8 > segment.bytes) {
      throw new InvalidArgumentError(`atomic: offset ${offset} is not an 8-aligned word inside segment ${slot} (${segment.bytes} bytes)`);
    }
    const word = new BigInt64Array(segment.data, (segment.byteOffset ?? 0) + offset, 1);
    return op === Op.FETCH_ADD ? Atomics.add(word, 0, a) : Atomics.compareExchange(word, 0, a, b);
  }

  async send(rank: number, data: Uint8Array): Promise<void> {
    if (this.closed) throw new ClosedError(`send: the uws transport of rank ${this.rank} is closed`);
    if (data.byteLength > this.config.maxPassiveBytes) {
      throw new InvalidArgumentError(`passive message of ${data.byteLength} bytes exceeds maxPassiveBytes (${this.config.maxPassiveBytes})`);
    }
    // A private copy travels (transferred, not cloned again): the caller may reuse `data` at once.
    // (Not data.slice(): on a Buffer that is a view, and transferring it would detach Node's pool.)
    const copy = new Uint8Array(data.byteLength);
    copy.set(data);
    if (rank === this.rank) {
      this.inbox.deliver({ rank, data: copy });
      return;
    }
    if (!this.shared.alive(rank)) throw new PeerDeadError(rank, `send: rank ${rank} is dead`);
    await this.request<void>(rank, `send to rank ${rank}`, (req) => ({ t: 'send', req, rank, data: copy }), [copy.buffer as ArrayBuffer]);
  }

  /** Open the data link to `rank` now (GASPI connect); resolves once it is open. */
  async connect(rank: number): Promise<void> {
    if (rank === this.rank) return;
    if (!this.shared.alive(rank)) throw new PeerDeadError(rank, `connect: rank ${rank} is dead`);
    await this.request<void>(rank, `connect to rank ${rank}`, (req) => ({ t: 'connect', req, rank }));
  }

  /**
   * Close the data link to `rank` (GASPI disconnect) once every operation already sent on it is
   * answered; resolves when it is closed. The next operation to `rank` opens a new one.
   */
  async disconnect(rank: number): Promise<void> {
    if (rank === this.rank) return;
    await this.request<void>(rank, `disconnect from rank ${rank}`, (req) => ({ t: 'disconnect', req, rank }));
  }

  /** This rank and every rank it holds an open data link to, ascending. */
  connections(): number[] {
    const list: number[] = [];
    for (let r = 0; r < this.size; r++) if (r === this.rank || Atomics.load(this.linkState, r) === PUBLISHED_OPEN) list.push(r);
    return list;
  }

  receive(timeoutMs: number): Promise<PassiveMessage | undefined> {
    // Closed: hand over what already arrived, but wait for nothing more.
    return this.inbox.receive(this.closed ? 0 : timeoutMs);
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    if (!this.workerExited) {
      this.worker.postMessage({ t: 'close' } satisfies ToWorker);
      // The worker keeps serving peers until each of them closes too (or dies): no time limit here.
      await this.workerClosed;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), CLOSE_TIMEOUT_MS);
      });
      const outcome = await Promise.race([this.exited, timedOut]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        // The worker did not finish closing; ask it to drop uWS at once before ending it.
        this.closeUwsBeforeExit();
        this.log(`uws rank ${this.rank}: the communication worker did not end within ${CLOSE_TIMEOUT_MS} ms of close(); terminating it`);
        await this.worker.terminate();
      }
    }
    this.afterWorkerExit(0);
  }

  /** Whatever still waits on the worker can no longer be answered. */
  private afterWorkerExit(code: number): void {
    if (!this.closed && code !== 0) this.log(`uws rank ${this.rank}: the communication worker exited with code ${code}`);
    this.closed = true;
    for (const [req, request] of this.requests) {
      this.requests.delete(req);
      request.reject(new ClosedError(`${request.what}: the uws transport of rank ${this.rank} closed before it finished`));
    }
    this.inbox.releaseReceivers();
    this.startup?.reject(new RendezvousError(`rank ${this.rank}: the communication worker ended during startup (code ${code})`));
    this.startup = undefined;
  }

  /** process 'exit' handler: have the worker close its uWS sockets, and wait (bounded) until it did. */
  private closeUwsBeforeExit(): void {
    if (this.workerExited || Atomics.load(this.ctl, C_EXIT_DONE) !== 0) return;
    Atomics.store(this.ctl, C_EXIT, 1);
    Atomics.add(this.ctl, C_DOORBELL, 1);
    Atomics.notify(this.ctl, C_DOORBELL);
    Atomics.wait(this.ctl, C_EXIT_DONE, 0, EXIT_WAIT_MS);
  }
}

function startupError(code: string, message: string): PgasError {
  if (code === 'ERR_BAD_TOKEN') return new BadTokenError(message);
  if (code === 'ERR_CONFIG') return new ConfigError(message);
  return new RendezvousError(message);
}

function checkOptions(o: UwsTransportOptions): void {
  const int = (name: string, v: number, lo: number): void => {
    if (!Number.isInteger(v) || v < lo) throw new ConfigError(`uws transport: ${name} must be an integer >= ${lo}, got ${String(v)}`);
  };
  int('size', o.size, 1);
  int('rank', o.rank, 0);
  if (o.rank >= o.size) throw new ConfigError(`uws transport: rank ${o.rank} is not below size ${o.size}`);
  int('startupTimeoutMs', o.startupTimeoutMs, 1);
  int('heartbeatMs', o.heartbeatMs, 1);
  int('rendezvous port', o.rendezvous.port, 1);
  if (typeof o.token !== 'string' || o.token.length === 0) throw new ConfigError('uws transport: the job token is empty');
}
