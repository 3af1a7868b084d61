/**
 * The rendezvous that rank 0 hosts (or a launcher runs standalone): every rank registers its data
 * endpoint; once all `size` ranks are there, each receives the whole table. The connections stay open:
 * heartbeats flow both ways, and a rank whose connection closes without saying "leave", or that misses
 * MISSED_HEARTBEATS heartbeats, is announced dead to every other rank.
 *
 * Every connection is challenged first (pgas/auth): its registration must carry the proof of the job
 * token for the rank it claims; any other first line, a wrong proof, or silence past the auth timeout
 * closes it and logs its address (rate-limited). The rendezvous confirms with its own proof.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { DEFAULT_AUTH_TIMEOUT_MS, RejectionLog, ServerHandshake } from '../auth/index.js';
import { formatEndpoint, MAX_RANK_LINE_BYTES, MISSED_HEARTBEATS, parseRegister, readLines, writeLine, type Member } from './protocol.js';
import { AnnouncementRelay, type RelayMember } from './relay.js';

export interface RendezvousServerOptions {
  host: string;
  /** 0 picks a free port (read it back from `port`) */
  port: number;
  size: number;
  token: string;
  /** how long to wait, from start, for every rank to register */
  startupTimeoutMs: number;
  heartbeatMs: number;
  /** how long a connection may take to prove the token (default 10 s) */
  authTimeoutMs?: number;
  log?: (line: string) => void;
}

interface Client {
  socket: Socket;
  /** present until the connection proved the token */
  handshake: ServerHandshake | undefined;
  authTimer: NodeJS.Timeout | undefined;
  member: Member | undefined;
  lastSeen: number;
  left: boolean;
}

type Phase = 'waiting' | 'running' | 'failed' | 'closed';

export class RendezvousServer {
  readonly port: number;
  private readonly server: Server;
  private readonly options: RendezvousServerOptions;
  private readonly log: (line: string) => void;
  private readonly clients = new Set<Client>();
  private readonly registered = new Map<number, Client>();
  private phase: Phase = 'waiting';
  private lastBeat = Date.now();
  private readonly startupTimer: NodeJS.Timeout;
  private readonly heartbeat: NodeJS.Timeout;
  readonly rejections: RejectionLog;
  /** segment announcements and closing notices between ranks (relay.ts) */
  private readonly relay = new AnnouncementRelay(() => this.relayMembers());

  private constructor(server: Server, port: number, options: RendezvousServerOptions) {
    this.server = server;
    this.port = port;
    this.options = options;
    this.log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
    this.rejections = new RejectionLog(this.log, 'rendezvous');
    server.on('connection', (socket) => this.accept(socket));
    this.startupTimer = setTimeout(() => this.startupExpired(), options.startupTimeoutMs);
    this.startupTimer.unref();
    this.heartbeat = setInterval(() => this.beat(), options.heartbeatMs);
    this.heartbeat.unref();
  }

  /** Listen on host:port; rejects (EADDRINUSE, ...) if the port cannot be bound. */
  static start(options: RendezvousServerOptions): Promise<RendezvousServer> {
    return new Promise((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        const address = server.address();
        const port = typeof address === 'object' && address ? address.port : options.port;
        resolve(new RendezvousServer(server, port, options));
      });
    });
  }

  /** host:port where ranks reach this rendezvous */
  get address(): string {
    return formatEndpoint(this.options.host, this.port);
  }

  /** Ranks registered so far (for a launcher's progress report). */
  registeredRanks(): number[] {
    return [...this.registered.keys()].sort((a, b) => a - b);
  }

  /** Resolves once no rank is registered any more: every one left, or died (the heartbeat settles hangs). */
  async whenEmpty(): Promise<void> {
    while (this.registered.size > 0 && this.phase === 'running') await new Promise((resolve) => setTimeout(resolve, 20));
  }

  /** Stop: every rank still connected is told "bye" (a clean end, not a death). */
  close(): Promise<void> {
    if (this.phase === 'closed') return Promise.resolve();
    this.phase = 'closed';
    clearTimeout(this.startupTimer);
    clearInterval(this.heartbeat);
    for (const client of this.clients) {
      writeLine(client.socket, { t: 'bye' });
      client.socket.end();
      client.socket.destroySoon();
    }
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    socket.setNoDelay(true);
    const handshake = new ServerHandshake(this.options.token, 'rendezvous', 0);
    const client: Client = { socket, handshake, authTimer: undefined, member: undefined, lastSeen: Date.now(), left: false };
    this.clients.add(client);
    const timeoutMs = this.options.authTimeoutMs ?? DEFAULT_AUTH_TIMEOUT_MS;
    client.authTimer = setTimeout(() => {
      client.authTimer = undefined;
      if (client.handshake) this.refuse(client, `no proof of the job token within ${timeoutMs} ms`);
    }, timeoutMs);
    client.authTimer.unref();
    readLines(
      socket,
      (value) => this.onLine(client, value),
      (why) => (client.handshake
        ? this.refuse(client, `sent ${why}`)
        : this.reject(client, 'ERR_RENDEZVOUS', `rendezvous: ${describe(client)} sent ${why}; closing it`)),
      MAX_RANK_LINE_BYTES,
    );
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (client.handshake && this.clients.has(client)) this.refuse(client, 'closed before proving the job token');
      this.lost(client);
    });
    writeLine(socket, { t: 'challenge', data: handshake.challenge.toString('base64') });
  }

  private onLine(client: Client, value: unknown): void {
    if (!this.clients.has(client)) return; // refused: nothing more it sends is read
    if (client.handshake) {
      this.authenticate(client, value);
      return;
    }
    client.lastSeen = Date.now();
    if (typeof value !== 'object' || value === null) return;
    const line = value as Record<string, unknown>;
    if (line.t === 'leave') {
      client.left = true;
      if (client.member) this.relay.gone(client.member.rank);
    } else if (line.t !== 'hb' && client.member && this.phase === 'running') {
      const problem = this.relay.handle({ rank: client.member.rank, socket: client.socket }, line);
      if (problem !== undefined && problem !== 'other') this.log(`rendezvous: rank ${client.member.rank} sent ${problem}; ignored`);
    }
    // heartbeats only refresh lastSeen
  }

  private *relayMembers(): Iterable<RelayMember> {
    for (const c of this.registered.values()) if (!c.left) yield { rank: c.member!.rank, socket: c.socket };
  }

  /** The first line: a registration whose proof of the token holds for the rank it claims, or the end. */
  private authenticate(client: Client, value: unknown): void {
    const line = parseRegister(value);
    if (typeof line === 'string') {
      this.refuse(client, `a first line that is not a registration (${line})`);
      return;
    }
    const answer = Buffer.from(line.auth, 'base64');
    const result = client.handshake!.accept(answer);
    if (typeof result === 'string' || result.clientId !== line.rank) {
      const why = typeof result === 'string' ? result : `a proof made for rank ${result.clientId}`;
      this.refuse(client, `${why} (claims rank ${line.rank}, ${line.hostname} pid ${line.pid})`,
        `rank ${line.rank}: the rendezvous at ${this.address} rejected the job token (check PGAS_TOKEN: every rank must get the launcher's token)`);
      return;
    }
    client.handshake = undefined;
    if (client.authTimer) clearTimeout(client.authTimer);
    client.authTimer = undefined;
    client.lastSeen = Date.now();
    writeLine(client.socket, { t: 'welcome', data: result.confirm.toString('base64') });
    const from = `${line.hostname} (pid ${line.pid}, ${remote(client.socket)})`;
    const size = this.options.size;
    let problem: string | undefined;
    if (line.size !== size) problem = `rank ${line.rank} was started with PGAS_SIZE=${line.size}, but the job has ${size} ranks (rank 0's PGAS_SIZE)`;
    else if (line.rank >= size) problem = `rank ${line.rank} is not below the job size ${size}`;
    else if (this.registered.has(line.rank)) {
      const first = this.registered.get(line.rank)!.member!;
      problem = `rank ${line.rank} registered twice: first from ${first.hostname} (pid ${first.pid}), again from ${from}; every rank needs its own PGAS_RANK`;
    } else if (this.phase !== 'waiting') problem = `rank ${line.rank} registered after the job ${this.phase === 'running' ? 'started' : 'failed'}`;
    if (problem) {
      this.log(`rendezvous: ${problem}`);
      this.send(client, 'ERR_RENDEZVOUS', problem);
      return;
    }
    client.member = { rank: line.rank, endpoint: line.endpoint, pid: line.pid, hostname: line.hostname };
    this.registered.set(line.rank, client);
    if (this.registered.size === size) this.startJob();
  }

  /**
   * Close a connection that did not prove the token, logging its address (rate-limited). A rank that
   * tried and failed is told why (`told`), so that it fails with BadTokenError rather than a timeout.
   */
  private refuse(client: Client, reason: string, told?: string): void {
    if (client.authTimer) clearTimeout(client.authTimer);
    client.authTimer = undefined;
    if (!this.clients.has(client)) return;
    this.rejections.reject(remote(client.socket), reason);
    if (told) {
      this.send(client, 'ERR_BAD_TOKEN', told);
    } else {
      this.clients.delete(client);
      client.socket.destroy();
    }
  }

  private startJob(): void {
    this.phase = 'running';
    clearTimeout(this.startupTimer);
    const members = [...this.registered.values()].map((c) => c.member!).sort((a, b) => a.rank - b.rank);
    const now = Date.now();
    for (const client of this.registered.values()) {
      client.lastSeen = now;
      writeLine(client.socket, { t: 'table', members });
    }
  }

  private startupExpired(): void {
    if (this.phase !== 'waiting') return;
    this.phase = 'failed';
    const missing: number[] = [];
    for (let r = 0; r < this.options.size; r++) if (!this.registered.has(r)) missing.push(r);
    const names = missing.length === 1 ? `rank ${missing[0]}` : `ranks ${missing.join(', ')}`;
    const message = `${names} never registered within ${this.options.startupTimeoutMs} ms (rendezvous ${this.address}); check that every rank was started with the same PGAS_RENDEZVOUS and PGAS_SIZE`;
    this.log(`rendezvous: ${message}`);
    for (const client of [...this.registered.values()]) this.send(client, 'ERR_RENDEZVOUS', message);
    this.registered.clear();
  }

  private beat(): void {
    const limit = MISSED_HEARTBEATS * this.options.heartbeatMs;
    const now = Date.now();
    // If this timer itself ran late, this thread was stalled and could not read the ranks' heartbeats:
    // that is no evidence against them, so their silence is counted from now.
    const stalled = now - this.lastBeat > 2 * this.options.heartbeatMs;
    this.lastBeat = now;
    for (const client of this.registered.values()) {
      if (stalled) client.lastSeen = Math.max(client.lastSeen, now - this.options.heartbeatMs);
      if (now - client.lastSeen > limit) {
        this.log(`rendezvous: rank ${client.member!.rank} missed ${MISSED_HEARTBEATS} heartbeats (${now - client.lastSeen} ms): declaring it dead`);
        client.socket.destroy();
        this.lost(client);
      } else {
        writeLine(client.socket, { t: 'hb' });
      }
    }
  }

  /** A connection ended: a registered rank that did not say "leave" is dead. */
  private lost(client: Client): void {
    if (!this.clients.delete(client)) return;
    const member = client.member;
    if (!member || this.registered.get(member.rank) !== client) return;
    this.registered.delete(member.rank);
    this.relay.gone(member.rank);
    if (this.phase !== 'running' || client.left) return;
    for (const other of this.registered.values()) writeLine(other.socket, { t: 'dead', rank: member.rank });
  }

  private send(client: Client, code: 'ERR_BAD_TOKEN' | 'ERR_RENDEZVOUS', message: string): void {
    if (client.authTimer) clearTimeout(client.authTimer);
    client.authTimer = undefined;
    writeLine(client.socket, { t: 'error', code, message });
    client.socket.end();
    this.clients.delete(client);
    // The rank closes on reading the error; one that does not is cut off.
    setTimeout(() => client.socket.destroy(), 1000).unref();
  }

  private reject(client: Client, code: 'ERR_RENDEZVOUS', line: string): void {
    this.log(line);
    this.send(client, code, line);
  }
}

function remote(socket: Socket): string {
  return `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
}

function describe(client: Client): string {
  return client.member ? `rank ${client.member.rank}` : `the connection from ${remote(client.socket)}`;
}
