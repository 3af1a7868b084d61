/**
 * A rank's outgoing connection to one peer's data server (npm `ws`): requests go out on it and the
 * peer's answers come back on it, in order. Death of the peer shows as this connection closing
 * without the CLOSE_LEAVING code (incoming connections say nothing about health: anyone holding the
 * token could open and drop one).
 */
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import { ClientHandshake } from '../../auth/index.js';
import { PendingFifo, nextSequence } from './pending.js';

export const LINK_CONNECTING = 0;
export const LINK_OPEN = 1;
/** closed: the peer died or left; every op to it fails at once */
export const LINK_GONE = 2;

export class PeerLink {
  state = LINK_CONNECTING;
  ws: WebSocket | undefined;
  /** the TCP socket under `ws`, corked while a batch of descriptors is turned into frames */
  socket: Socket | undefined;
  corked = false;
  readonly pending = new PendingFifo();
  /** the first failure among the chunks of the multi-frame operation being answered */
  carry = 0;
  private next = 1;

  constructor(readonly rank: number) {}

  sequence(): number {
    const s = this.next;
    this.next = nextSequence(s);
    return s;
  }

  /** Send one frame (the link must be open); `written` runs once the socket no longer needs it. */
  send(frame: Buffer, written?: () => void): void {
    this.ws!.send(frame, SEND_OPTIONS, written);
  }
}

const SEND_OPTIONS = { binary: true, compress: false } as const;

export interface ConnectOptions {
  /** ws://host:port/pgas or wss://host:port/pgas */
  url: string;
  token: string;
  /** this rank, proven to the peer */
  rank: number;
  /** the rank dialled (the peer must prove it holds the token as that rank's server) */
  peerRank: number;
  /** CA bundle trusted for wss:// (undefined: Node's defaults) */
  ca: Buffer | undefined;
  maxPayload: number;
  timeoutMs: number;
  onMessage: (link: PeerLink, data: Buffer) => void;
  onClose: (link: PeerLink, code: number) => void;
}

/**
 * Open the link and run the token handshake on it (pgas/auth): answer the peer's challenge, then check
 * its confirmation. Resolves once both ends are proven; rejects with the reason it could not be.
 */
export function connectLink(link: PeerLink, options: ConnectOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(options.url, {
      perMessageDeflate: false,
      // An all-zero mask: ws then skips masking (the payload is written as it is, not XORed in a copy).
      generateMask: () => undefined,
      maxPayload: options.maxPayload,
      skipUTF8Validation: true,
      handshakeTimeout: options.timeoutMs,
      ...(options.ca ? { ca: options.ca } : {}),
    });
    link.ws = ws;
    const handshake = new ClientHandshake(options.token, 'data', options.rank, options.peerRank);
    let step: 'challenge' | 'confirm' | 'open' = 'challenge';
    let settled = false;
    const fail = (why: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ws.terminate();
      reject(new Error(why));
    };
    // The WebSocket upgrade has its own timeout; this one bounds the token handshake after it.
    const timer = setTimeout(() => fail(`no authentication from the peer within ${options.timeoutMs} ms`), options.timeoutMs);
    ws.on('upgrade', (response) => {
      link.socket = response.socket;
      link.socket.setNoDelay(true);
    });
    ws.on('message', (data: Buffer) => {
      if (step === 'open') {
        options.onMessage(link, data);
      } else if (step === 'challenge') {
        const answer = handshake.answer(data);
        if (typeof answer === 'string') return fail(answer);
        step = 'confirm';
        ws.send(answer, SEND_OPTIONS);
      } else {
        const problem = handshake.confirm(data);
        if (problem !== undefined) return fail(problem);
        if (link.state === LINK_GONE) return fail('the peer was declared dead while the link opened');
        step = 'open';
        settled = true;
        clearTimeout(timer);
        link.state = LINK_OPEN;
        resolve();
      }
    });
    ws.on('error', (error) => fail(error.message));
    ws.on('close', (code) => {
      if (step !== 'open') fail(`closed during the handshake (code ${code}${code === 4003 ? ': the peer refused the job token' : ''})`);
      else options.onClose(link, code);
    });
  });
}
