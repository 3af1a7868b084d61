/**
 * A rank's side of the dashboard feed: solvers and applications call publishMetrics() as often as they
 * like (every step is fine); at most 10 records a second leave the rank, each carrying every field
 * published so far (so a lost record loses nothing). Without a dashboard (PGAS_METRICS_FEED unset) every
 * call is a no-op after one environment look-up.
 *
 * The connection is a WebSocket to the launcher (`ws` client, loaded only when a feed is configured),
 * authenticated by the feed key in its URL. Sending never blocks the rank: a record is dropped when
 * the socket has a backlog, and the socket is unref'd so that it never keeps a finished rank alive.
 * A keep-alive timer resends the latest record twice a second while the rank's event loop is free,
 * so a rank that is waiting (not computing) still shows as alive.
 */
import { hostname } from 'node:os';
import type { Socket } from 'node:net';
import type { MetricsRecord } from './record.js';

/** the environment variable pgas-run sets on every rank: ws://host:port/feed?key=... */
export const FEED_ENV = 'PGAS_METRICS_FEED';

/** What a solver or application may publish (rank, pid, host and time are filled in here). */
export type RankMetrics = Omit<MetricsRecord, 'rank' | 'pid' | 'host' | 'time'>;

const SEND_INTERVAL_MS = 100;
const KEEPALIVE_MS = 500;
/** records are ~300 bytes: a backlog this large means the launcher is not reading; drop, don't queue */
const MAX_BACKLOG_BYTES = 64 * 1024;
const OPEN = 1;

interface FeedSocket {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: string): void;
  close(): void;
  terminate(): void;
  on(event: 'open' | 'close', listener: () => void): void;
  on(event: 'error', listener: (err: Error) => void): void;
  on(event: 'unexpected-response', listener: (req: unknown, res: { statusCode?: number }) => void): void;
}

class FeedClient {
  private socket: FeedSocket | undefined;
  private readonly started = performance.now();
  private lastSent = -Infinity;
  private lossSum = 0;
  private lossCount = 0;
  private failed = false;
  readonly latest: MetricsRecord = { rank: 0, pid: process.pid, host: hostname().slice(0, 64), time: 0 };

  constructor(private readonly url: string) {
    void this.connect();
    setInterval(() => {
      if (performance.now() - this.lastSent >= KEEPALIVE_MS) this.send();
    }, KEEPALIVE_MS).unref();
  }

  private async connect(): Promise<void> {
    try {
      const { WebSocket } = await import('ws');
      const socket = new WebSocket(this.url) as unknown as FeedSocket;
      this.socket = socket;
      socket.on('open', () => {
        // ws keeps no public handle on its TCP socket; unref it so a finished rank can exit.
        (socket as unknown as { _socket?: Socket })._socket?.unref();
        this.send();
      });
      socket.on('error', (err) => this.fail(err.message));
      socket.on('unexpected-response', (_req: unknown, res: { statusCode?: number }) => this.fail(`refused (HTTP ${res.statusCode})`));
      socket.on('close', () => { this.socket = undefined; });
    } catch (err) {
      this.fail((err as Error).message);
    }
  }

  private fail(why: string): void {
    if (this.failed) return;
    this.failed = true;
    this.socket?.terminate(); // after a refusal the HTTP connection would linger and hold the rank
    this.socket = undefined;
    const where = this.url.replace(/\?.*$/, '');
    process.stderr.write(`pgas metrics feed: cannot report to the dashboard at ${where}: ${why} (the job goes on)\n`);
  }

  get due(): boolean {
    return !this.failed && performance.now() - this.lastSent >= SEND_INTERVAL_MS;
  }

  addLoss(loss: number): void {
    if (!Number.isFinite(loss)) return;
    this.lossSum += loss;
    this.lossCount++;
  }

  merge(rank: number, metrics: RankMetrics): void {
    Object.assign(this.latest, metrics);
    this.latest.rank = rank;
  }

  send(): void {
    const socket = this.socket;
    if (socket === undefined || socket.readyState !== OPEN) return; // still due: sent once it opens
    const now = performance.now();
    this.lastSent = now;
    if (socket.bufferedAmount > MAX_BACKLOG_BYTES) return; // the launcher is not reading: drop this one
    if (this.lossCount > 0) {
      this.latest.loss = this.lossSum / this.lossCount;
      this.lossSum = 0;
      this.lossCount = 0;
    }
    this.latest.time = now - this.started;
    socket.send(JSON.stringify(this.latest));
  }
}

/** undefined: not looked up yet; null: no dashboard */
let client: FeedClient | null | undefined;

function feed(): FeedClient | null {
  if (client === undefined) {
    const url = process.env[FEED_ENV];
    client = url ? new FeedClient(url) : null;
  }
  return client;
}

/** True when this rank reports to a dashboard (PGAS_METRICS_FEED is set). */
export function metricsFeedEnabled(): boolean {
  return feed() !== null;
}

/** True when a dashboard is listening and a record is due: build an expensive record only then. */
export function metricsDue(): boolean {
  const c = feed();
  return c !== null && c.due;
}

/** Merge `metrics` into this rank's record; sent when due (at most 10 times a second). */
export function publishMetrics(rank: number, metrics: RankMetrics): void {
  const c = feed();
  if (c === null) return;
  c.merge(rank, metrics);
  if (c.due) c.send();
}

/** One step's training loss: records carry the mean of the losses since the previous record. */
export function publishLoss(loss: number): void {
  feed()?.addLoss(loss);
}
