/**
 * A rank's outgoing connection to one peer's data server (npm `ws`): requests go out on it and the
 * peer's answers come back on it, in order. Death of the peer shows as this connection closing
 * without the CLOSE_LEAVING code (incoming connections say nothing about health: anyone holding the
 * token could open and drop one).
 */
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import { PendingFifo, nextSequence } from './pending.js';
import { RANK_HEADER, TOKEN_HEADER } from './layout.js';

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
  url: string;
  token: string;
  /** this rank, presented to the peer */
  rank: number;
  maxPayload: number;
  timeoutMs: number;
  onMessage: (link: PeerLink, data: Buffer) => void;
  onClose: (link: PeerLink, code: number) => void;
}

/** Open the link; resolves when it is open, rejects with the reason it could not be. */
export function connectLink(link: PeerLink, options: ConnectOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(options.url, {
      headers: { [TOKEN_HEADER]: options.token, [RANK_HEADER]: String(options.rank) },
      perMessageDeflate: false,
      // An all-zero mask: ws then skips masking (the payload is written as it is, not XORed in a copy).
      generateMask: () => undefined,
      maxPayload: options.maxPayload,
      skipUTF8Validation: true,
      handshakeTimeout: options.timeoutMs,
    });
    link.ws = ws;
    let opened = false;
    ws.on('upgrade', (response) => {
      link.socket = response.socket;
      link.socket.setNoDelay(true);
    });
    ws.on('open', () => {
      opened = true;
      link.state = LINK_OPEN;
      resolve();
    });
    ws.on('message', (data: Buffer) => options.onMessage(link, data));
    ws.on('error', (error) => {
      if (!opened) reject(error);
    });
    ws.on('close', (code) => {
      if (!opened) reject(new Error(`closed during the handshake (code ${code})`));
      else options.onClose(link, code);
    });
  });
}
