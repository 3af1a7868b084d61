/**
 * A rank's data server (uWebSockets.js, in the communication worker): peers connect to it and send
 * requests; it answers on the same connection, in request order.
 *
 * Authentication (pgas/auth): on open the server sends a challenge; the first message must be the
 * client's proof of the job token for a valid rank, else the connection is closed (and logged,
 * rate-limited) without any frame being read as an op; so is one that stays silent past the auth
 * timeout. Only then does the server confirm (proving it holds the token too) and serve frames.
 * Successful requests are acknowledged in
 * batches: one Ack per connection per event-loop turn covers every request up to its sequence; a
 * failed request is acknowledged at once (which also covers the ones before it).
 */
import { createRequire } from 'node:module';
import type * as UWS from '@trufflesuite/uws-js-unofficial';
import { RejectionLog, ServerHandshake, type TlsFiles } from '../../auth/index.js';
import { WireStatus } from '../../errors.js';
import type { FrameEncoder } from '../../wire/index.js';
import { CLOSE_AUTH, CLOSE_LEAVING, CLOSE_PROTOCOL } from './layout.js';
import { CLOSE, NO_REPLY, REPLIED, type Target } from './target.js';

const uWS = createRequire(import.meta.url)('@trufflesuite/uws-js-unofficial') as typeof UWS;

interface Conn {
  /** the proven rank of the peer (-1 until authenticated) */
  rank: number;
  /** remote address, for the log */
  from: string;
  /** set until the peer proved the token; its presence means "not authenticated" */
  handshake: ServerHandshake | undefined;
  authTimer: NodeJS.Timeout | undefined;
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
  /** TLS certificate and key (uWS SSLApp); undefined: plain TCP */
  tls: TlsFiles | undefined;
  /** how long a connection may take to prove the token */
  authTimeoutMs: number;
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
  /** close() or closeNow() ran: connections accepted before the listener closed are refused, not upgraded. */
  private closed = false;
  private readonly unacked: Socket[] = [];
  private flushScheduled = false;
  private readonly flush = (): void => this.flushAcks();
  readonly rejections: RejectionLog;

  constructor(private readonly options: DataServerOptions) {
    this.rejections = new RejectionLog(options.log, `uws rank ${options.rank}`);
    this.app = options.tls ? uWS.SSLApp({ cert_file_name: options.tls.certFile, key_file_name: options.tls.keyFile }) : uWS.App();
    this.app.ws<Conn>('/*', {
      compression: uWS.DISABLED,
      maxPayloadLength: options.maxMessageBytes,
      // 0: no limit. A GET's answer must never be dropped; the requester bounds what is outstanding.
      maxBackpressure: 0,
      closeOnBackpressureLimit: 0,
      idleTimeout: 0,
      sendPingsAutomatically: false,
      upgrade: (res, req, context) => this.upgrade(res, req, context),
      open: (ws) => this.opened(ws),
      message: (ws, message) => this.message(ws, message),
      drain: (ws) => this.drain(ws),
      close: (ws, code) => {
        const conn = ws.getUserData();
        const wasOpen = conn.open;
        conn.open = false;
        this.sockets.delete(ws);
        if (conn.authTimer) clearTimeout(conn.authTimer);
        if (conn.handshake) {
          if (wasOpen) this.rejections.reject(conn.from, 'closed before proving the job token');
          return;
        }
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
    this.closed = true;
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
    this.closed = true;
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
    // uWS aborts the whole process when an upgrade handler returns without answering, so answer every
    // request: refused once the server is closed (a peer that dialled just before the listener closed,
    // e.g. a lazy link opened while this rank exits), and closed if anything below throws.
    if (this.closed) {
      res.writeStatus('503 Service Unavailable').end('rank is closing', true);
      return;
    }
    try {
      this.upgradeOpen(res, req, context);
    } catch {
      res.close();
    }
  }

  private upgradeOpen(res: UWS.HttpResponse, req: UWS.HttpRequest, context: UWS.us_socket_context_t): void {
    const key = req.getHeader('sec-websocket-key');
    const protocol = req.getHeader('sec-websocket-protocol');
    const extensions = req.getHeader('sec-websocket-extensions');
    const from = Buffer.from(res.getRemoteAddressAsText()).toString();
    const { rank, size } = this.options;
    const handshake = new ServerHandshake(this.options.token, 'data', rank, (peer) =>
      peer >= size || peer === rank ? `proved the token but claims rank ${peer} (job of ${size}, this is rank ${rank})` : undefined);
    const conn: Conn = { rank: -1, from, handshake, authTimer: undefined, ackSequence: 0, open: true, overflow: undefined };
    res.upgrade(conn, key, protocol, extensions, context);
  }

  /** A WebSocket opened: challenge it, and give it authTimeoutMs to answer. */
  private opened(ws: Socket): void {
    this.sockets.add(ws);
    const conn = ws.getUserData();
    conn.authTimer = setTimeout(() => {
      conn.authTimer = undefined;
      if (conn.open && conn.handshake) this.refuse(ws, conn, `no proof of the job token within ${this.options.authTimeoutMs} ms`);
    }, this.options.authTimeoutMs);
    ws.send(conn.handshake!.challenge, true, false);
  }

  /** The first message of a connection: its proof of the token, or the end of the connection. */
  private authenticate(ws: Socket, conn: Conn, message: ArrayBuffer): void {
    const result = conn.handshake!.accept(new Uint8Array(message));
    if (typeof result === 'string') {
      this.refuse(ws, conn, result);
      return;
    }
    conn.handshake = undefined;
    if (conn.authTimer) clearTimeout(conn.authTimer);
    conn.authTimer = undefined;
    conn.rank = result.clientId;
    ws.send(result.confirm, true, false);
  }

  /** Close a connection that did not authenticate; nothing it sent is read as an op. */
  private refuse(ws: Socket, conn: Conn, reason: string): void {
    conn.open = false;
    if (conn.authTimer) clearTimeout(conn.authTimer);
    conn.authTimer = undefined;
    this.rejections.reject(conn.from, reason);
    ws.end(CLOSE_AUTH, 'authentication failed');
  }

  private message(ws: Socket, message: ArrayBuffer): void {
    const conn = ws.getUserData();
    if (!conn.open) return;
    if (conn.handshake) {
      this.authenticate(ws, conn, message);
      return;
    }
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
