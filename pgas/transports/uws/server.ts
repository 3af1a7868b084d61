/**
 * A rank's data server (uWebSockets.js, in the communication worker): peers connect to it and send
 * requests; it answers on the same connection, in request order.
 *
 * Authentication happens in the upgrade handler, before a socket exists: the request must carry the
 * job token (compared in constant time) and a valid rank. Successful requests are acknowledged in
 * batches: one Ack per connection per event-loop turn covers every request up to its sequence; a
 * failed request is acknowledged at once (which also covers the ones before it).
 */
import { createRequire } from 'node:module';
import type * as UWS from '@trufflesuite/uws-js-unofficial';
import { tokensEqual } from '../../bootstrap/token.js';
import { WireStatus } from '../../errors.js';
import type { FrameEncoder } from '../../wire/index.js';
import { CLOSE_LEAVING, CLOSE_PROTOCOL, RANK_HEADER, TOKEN_HEADER } from './layout.js';
import { CLOSE, NO_REPLY, REPLIED, type Target } from './target.js';

const uWS = createRequire(import.meta.url)('@trufflesuite/uws-js-unofficial') as typeof UWS;

interface Conn {
  rank: number;
  /** highest sequence handled successfully and not yet acknowledged (0: none) */
  ackSequence: number;
  open: boolean;
  /** answers uWS refused (over maxBackpressure); sent in order on 'drain' */
  overflow: Buffer[] | undefined;
}
type Socket = UWS.WebSocket<Conn>;

export interface DataServerOptions {
  rank: number;
  size: number;
  token: string;
  /** the largest message accepted (a chunk or a passive message, plus its header) */
  maxMessageBytes: number;
  target: Target;
  encoder: FrameEncoder;
  log: (line: string) => void;
  /** a peer closed its connection to this server saying "leaving" (its close() has begun) */
  onPeerLeaving: (rank: number) => void;
}

export class DataServer {
  private readonly app: UWS.TemplatedApp;
  private listenSocket: UWS.us_listen_socket | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly unacked: Socket[] = [];
  private flushScheduled = false;
  private readonly flush = (): void => this.flushAcks();

  constructor(private readonly options: DataServerOptions) {
    this.app = uWS.App();
    this.app.ws<Conn>('/*', {
      compression: uWS.DISABLED,
      maxPayloadLength: options.maxMessageBytes,
      // 0: no limit. A GET's answer must never be dropped; the requester bounds what is outstanding.
      maxBackpressure: 0,
      closeOnBackpressureLimit: 0,
      idleTimeout: 0,
      sendPingsAutomatically: false,
      upgrade: (res, req, context) => this.upgrade(res, req, context),
      open: (ws) => {
        this.sockets.add(ws);
      },
      message: (ws, message) => this.message(ws, message),
      drain: (ws) => this.drain(ws),
      close: (ws, code) => {
        const conn = ws.getUserData();
        conn.open = false;
        this.sockets.delete(ws);
        if (code === CLOSE_LEAVING) this.options.onPeerLeaving(conn.rank);
      },
    });
  }

  /** Listen on host, port 0 (ephemeral); resolves the port. */
  listen(host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.app.listen(host, 0, (socket) => {
        if (!socket) {
          reject(new Error(`cannot listen on ${host}`));
          return;
        }
        this.listenSocket = socket;
        resolve(uWS.us_socket_local_port(socket as unknown as UWS.us_socket));
      });
    });
  }

  /** Clean close: peers see code CLOSE_LEAVING; no new connections. */
  close(): void {
    this.stopListening();
    for (const ws of [...this.sockets]) {
      ws.getUserData().open = false;
      ws.end(CLOSE_LEAVING, 'leaving');
    }
  }

  /** Resolves once every socket has closed after close(); those still open after `ms` are closed at once. */
  async drained(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (this.sockets.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    if (this.sockets.size > 0) this.closeNow();
  }

  /** Process exit: close every uWS socket now, so that the thread can be torn down (see DESIGN.md). */
  closeNow(): void {
    this.stopListening();
    for (const ws of [...this.sockets]) {
      ws.getUserData().open = false;
      ws.close();
    }
    this.sockets.clear();
  }

  private stopListening(): void {
    if (this.listenSocket) uWS.us_listen_socket_close(this.listenSocket);
    this.listenSocket = undefined;
  }

  private upgrade(res: UWS.HttpResponse, req: UWS.HttpRequest, context: UWS.us_socket_context_t): void {
    const token = req.getHeader(TOKEN_HEADER);
    const rankText = req.getHeader(RANK_HEADER);
    const key = req.getHeader('sec-websocket-key');
    const protocol = req.getHeader('sec-websocket-protocol');
    const extensions = req.getHeader('sec-websocket-extensions');
    const from = Buffer.from(res.getRemoteAddressAsText()).toString();
    const rank = /^\d{1,9}$/.test(rankText) ? Number(rankText) : -1;
    if (!tokensEqual(token, this.options.token)) {
      this.options.log(`uws rank ${this.options.rank}: refused a data connection from ${from} (claims rank ${rankText || '?'}): wrong job token`);
      res.writeStatus('401 Unauthorized').end('wrong job token', true);
      return;
    }
    if (rank < 0 || rank >= this.options.size || rank === this.options.rank) {
      this.options.log(`uws rank ${this.options.rank}: refused a data connection from ${from}: bad rank header '${rankText}'`);
      res.writeStatus('400 Bad Request').end('bad rank', true);
      return;
    }
    const conn: Conn = { rank, ackSequence: 0, open: true, overflow: undefined };
    res.upgrade(conn, key, protocol, extensions, context);
  }

  private message(ws: Socket, message: ArrayBuffer): void {
    const conn = ws.getUserData();
    if (!conn.open) return;
    const target = this.options.target;
    let outcome: number;
    try {
      outcome = target.handle(new Uint8Array(message), conn.rank);
    } catch (error) {
      // Nothing should throw here; if something does, this connection is the casualty, not the rank.
      this.protocolClose(ws, conn, `internal error handling a frame: ${(error as Error).message}`);
      return;
    }
    if (outcome === WireStatus.OK) {
      if (conn.ackSequence === 0) this.unacked.push(ws);
      conn.ackSequence = target.sequence;
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(this.flush);
      }
    } else if (outcome > 0) {
      this.answer(ws, conn, this.options.encoder.ack(target.sequence, outcome));
    } else if (outcome === REPLIED) {
      this.answer(ws, conn, target.reply!);
    } else if (outcome === CLOSE) {
      this.protocolClose(ws, conn, target.reason);
    } else if (outcome !== NO_REPLY) {
      this.protocolClose(ws, conn, `unexpected outcome ${outcome}`);
    }
  }

  /**
   * Send an answer; it covers (acknowledges) every earlier request of the connection too. `frame` may
   * be the encoder's scratch buffer: uWS copies what it does not write at once, and a frame kept for
   * later is copied here.
   */
  private answer(ws: Socket, conn: Conn, frame: Buffer): void {
    conn.ackSequence = 0;
    if (conn.overflow) {
      conn.overflow.push(Buffer.from(frame));
    } else if (ws.send(frame, true, false) === 2) {
      conn.overflow = [Buffer.from(frame)];
    }
  }

  private flushAcks(): void {
    this.flushScheduled = false;
    for (const ws of this.unacked) {
      const conn = ws.getUserData();
      if (!conn.open || conn.ackSequence === 0) continue;
      this.answer(ws, conn, this.options.encoder.ack(conn.ackSequence, WireStatus.OK));
    }
    this.unacked.length = 0;
  }

  private drain(ws: Socket): void {
    const conn = ws.getUserData();
    const queued = conn.overflow;
    if (!queued || !conn.open) return;
    conn.overflow = undefined;
    for (let i = 0; i < queued.length; i++) {
      if (conn.overflow) conn.overflow.push(queued[i]!);
      else if (ws.send(queued[i]!, true, false) === 2) conn.overflow = [queued[i]!];
    }
  }

  private protocolClose(ws: Socket, conn: Conn, reason: string): void {
    this.options.log(`uws rank ${this.options.rank}: closing the data connection from rank ${conn.rank}: ${reason}`);
    conn.open = false;
    ws.end(CLOSE_PROTOCOL, 'protocol error');
  }
}
