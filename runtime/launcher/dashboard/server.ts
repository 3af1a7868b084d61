/**
 * The dashboard's server, in the launcher process (uWebSockets.js): GET / serves the page; /ws is the
 * page's feed (the launcher pushes ticks to every page); /feed is where ranks send their metric
 * records. Each needs its key in the query string, checked before anything else: a request or upgrade
 * without it is answered 403 whatever its path.
 */
import { createRequire } from 'node:module';
import type * as UWS from '@trufflesuite/uws-js-unofficial';
import { MAX_RECORD_BYTES, MetricsRecordError, parseMetricsRecord, type MetricsRecord } from '../../metrics-feed/record.js';
import { keyMatches } from './key.js';

const uWS = createRequire(import.meta.url)('@trufflesuite/uws-js-unofficial') as typeof UWS;

const TOPIC = 'dashboard';
const FORBIDDEN = '403 Forbidden';
const FORBIDDEN_BODY = 'forbidden: open the URL with the key that pgas-run printed\n';
/** a page that reads this far behind is dropped rather than let the launcher's memory grow */
const PAGE_BACKLOG_BYTES = 32 * 1024 * 1024;
/** WebSocket close code: policy violation (an invalid record) */
const CLOSE_POLICY = 1008;

export interface DashboardHandlers {
  /** the live page's HTML */
  page(): string;
  /** the first message a page gets (job meta, curves so far, the current tick) */
  hello(): string;
  /** a valid record arrived from a rank */
  record(record: MetricsRecord): void;
  /** the feed connection of a rank closed */
  feedClosed(rank: number): void;
}

export interface DashboardServerOptions {
  host: string;
  viewKey: string;
  feedKey: string;
  /** ranks in the job (records for other ranks are refused) */
  size: number;
  handlers: DashboardHandlers;
  log: (line: string) => void;
}

interface Conn {
  kind: 'view' | 'feed';
  /** feed: the rank this connection reports for (bound by its first record), -1 before */
  rank: number;
}
type Socket = UWS.WebSocket<Conn>;

export class DashboardServer {
  private readonly app: UWS.TemplatedApp;
  private listenSocket: UWS.us_listen_socket | undefined;
  private readonly sockets = new Set<Socket>();
  /** requests and upgrades refused for a missing or wrong key */
  refused = 0;
  /** feed connections closed for an invalid record */
  badFeeds = 0;

  constructor(private readonly options: DashboardServerOptions) {
    const app = uWS.App();
    this.app = app;
    app.ws<Conn>('/ws', {
      compression: uWS.DISABLED,
      maxPayloadLength: 1024,
      maxBackpressure: PAGE_BACKLOG_BYTES,
      closeOnBackpressureLimit: 1,
      idleTimeout: 0,
      upgrade: (res, req, context) => this.upgrade(res, req, context, 'view', options.viewKey),
      open: (ws) => {
        this.sockets.add(ws);
        ws.subscribe(TOPIC);
        ws.send(options.handlers.hello(), false);
      },
      close: (ws) => { this.sockets.delete(ws); },
    });
    app.ws<Conn>('/feed', {
      compression: uWS.DISABLED,
      maxPayloadLength: MAX_RECORD_BYTES,
      idleTimeout: 0,
      upgrade: (res, req, context) => this.upgrade(res, req, context, 'feed', options.feedKey),
      open: (ws) => { this.sockets.add(ws); },
      message: (ws, message) => this.feedMessage(ws, message),
      close: (ws) => {
        this.sockets.delete(ws);
        const { rank } = ws.getUserData();
        if (rank >= 0) options.handlers.feedClosed(rank);
      },
    });
    app.get('/*', (res, req) => {
      if (!keyMatches(req.getQuery() ?? '', options.viewKey)) {
        this.forbid(res);
        return;
      }
      if (req.getUrl() !== '/') {
        res.writeStatus('404 Not Found').end('not found\n');
        return;
      }
      res.writeStatus('200 OK')
        .writeHeader('Content-Type', 'text/html; charset=utf-8')
        .writeHeader('Cache-Control', 'no-store')
        // the key is in this page's URL: never send it on as a Referer
        .writeHeader('Referrer-Policy', 'no-referrer')
        .writeHeader('X-Content-Type-Options', 'nosniff')
        .writeHeader('Content-Security-Policy', "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self' ws: wss:; img-src data:")
        .end(options.handlers.page());
    });
    app.any('/*', (res, req) => {
      if (!keyMatches(req.getQuery() ?? '', options.viewKey)) this.forbid(res);
      else res.writeStatus('405 Method Not Allowed').end('only GET\n');
    });
  }

  /** Listen on the host; port 0 picks a free one. Resolves the port. */
  listen(port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.app.listen(this.options.host, port, (socket) => {
        if (!socket) {
          reject(new Error(`cannot listen on ${this.options.host}:${port} (in use, or not an address of this machine)`));
          return;
        }
        this.listenSocket = socket;
        resolve(uWS.us_socket_local_port(socket as unknown as UWS.us_socket));
      });
    });
  }

  /** Send a message to every connected page. */
  broadcast(json: string): void {
    this.app.publish(TOPIC, json, false);
  }

  get pages(): number {
    return this.app.numSubscribers(TOPIC);
  }

  close(): void {
    if (this.listenSocket) uWS.us_listen_socket_close(this.listenSocket);
    this.listenSocket = undefined;
    for (const ws of [...this.sockets]) ws.close();
    this.sockets.clear();
  }

  private forbid(res: UWS.HttpResponse): void {
    this.refused++;
    res.writeStatus(FORBIDDEN).writeHeader('Content-Type', 'text/plain').end(FORBIDDEN_BODY);
  }

  private upgrade(res: UWS.HttpResponse, req: UWS.HttpRequest, context: UWS.us_socket_context_t, kind: Conn['kind'], key: string): void {
    if (!keyMatches(req.getQuery() ?? '', key)) {
      this.forbid(res);
      return;
    }
    const conn: Conn = { kind, rank: -1 };
    res.upgrade(conn, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), context);
  }

  private feedMessage(ws: Socket, message: ArrayBuffer): void {
    const conn = ws.getUserData();
    try {
      const record = parseMetricsRecord(Buffer.from(message).toString('utf8'), this.options.size);
      if (conn.rank >= 0 && record.rank !== conn.rank) {
        throw new MetricsRecordError(`a connection that reported for rank ${conn.rank} sent a record for rank ${record.rank}`);
      }
      conn.rank = record.rank;
      this.options.handlers.record(record);
    } catch (err) {
      if (!(err instanceof MetricsRecordError)) throw err;
      this.badFeeds++;
      const rank = conn.rank;
      conn.rank = -1; // the rank is not dead for this: it merely stops being heard (and shows as slow)
      this.options.log(`pgas-run: dashboard: closed a metrics feed${rank >= 0 ? ` of rank ${rank}` : ''}: ${err.message}\n`);
      ws.end(CLOSE_POLICY, 'invalid record');
    }
  }
}
