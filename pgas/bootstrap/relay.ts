/**
 * What the rendezvous passes on between ranks that hold no data link to each other (the uws transport
 * opens data links lazily): segment announcements, answered to the announcer once every other live
 * rank has recorded the size, and "closing" notices. Every rank keeps its rendezvous connection for the
 * whole job anyway (heartbeats), so this star costs no extra connection. The announcer's rank is the
 * one its connection proved at registration, never one a line claims.
 */
import type { Socket } from 'node:net';
import { isCount, writeLine } from './protocol.js';

export interface RelayMember {
  readonly rank: number;
  readonly socket: Socket;
}

interface Announcement {
  from: RelayMember;
  req: number;
  /** ranks that have not answered yet */
  waiting: Set<number>;
  /** the first refusal (a WireStatus), 0 while every answer was "recorded" */
  status: number;
}

/** Largest segment slot and size a relayed line may name (the ranks check their own limits). */
const MAX_SLOT = 1 << 16;

export class AnnouncementRelay {
  private readonly pending = new Map<number, Announcement>();
  private next = 1;

  /** `members`: the ranks registered now and not leaving */
  constructor(private readonly members: () => Iterable<RelayMember>) {}

  /**
   * A line from a registered rank after the table: relay it. Returns undefined if it was a relay line,
   * 'other' if it is not one, or what is wrong with it.
   */
  handle(from: RelayMember, line: Record<string, unknown>): string | undefined | 'other' {
    switch (line.t) {
      case 'segment':
        if (!isCount(line.req) || !isCount(line.slot, MAX_SLOT) || !isCount(line.bytes)) return 'a malformed segment announcement';
        this.announce(from, line.req, line.slot, line.bytes);
        return undefined;
      case 'ack':
        if (!isCount(line.n, Number.MAX_SAFE_INTEGER) || !isCount(line.status, 255)) return 'a malformed segment answer';
        this.answered(from.rank, line.n, line.status);
        return undefined;
      case 'closing':
        for (const m of this.members()) if (m.rank !== from.rank) writeLine(m.socket, { t: 'closing', rank: from.rank });
        return undefined;
      default:
        return 'other';
    }
  }

  /** A rank left or died: it answers nothing more, and nobody waits for its answers. */
  gone(rank: number): void {
    for (const [n, a] of this.pending) {
      if (a.from.rank === rank) this.pending.delete(n);
      else if (a.waiting.delete(rank) && a.waiting.size === 0) this.finish(n, a);
    }
  }

  private announce(from: RelayMember, req: number, slot: number, bytes: number): void {
    const n = this.next++;
    const a: Announcement = { from, req, waiting: new Set(), status: 0 };
    for (const m of this.members()) {
      if (m.rank === from.rank) continue;
      a.waiting.add(m.rank);
      writeLine(m.socket, { t: 'segment', n, rank: from.rank, slot, bytes });
    }
    if (a.waiting.size === 0) this.finish(n, a);
    else this.pending.set(n, a);
  }

  private answered(rank: number, n: number, status: number): void {
    const a = this.pending.get(n);
    if (!a || !a.waiting.delete(rank)) return;
    if (status !== 0 && a.status === 0) a.status = status;
    if (a.waiting.size === 0) this.finish(n, a);
  }

  private finish(n: number, a: Announcement): void {
    this.pending.delete(n);
    writeLine(a.from.socket, { t: 'segment-done', req: a.req, status: a.status });
  }
}
