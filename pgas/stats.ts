/**
 * Per-rank statistics (GASPI's statistic counters, per peer): what this rank posted to each peer, what
 * each peer did to this rank's memory, and how long this rank blocked in waits and collectives.
 * The counters live in the rank's SharedState (layout: stats-layout.ts).
 */
import {
  G_COLLECTIVE_MS, G_COLLECTIVES, G_NOTIFY_WAIT_MS, G_NOTIFY_WAITS, G_WAIT_MS, G_WAITS, PEER_FIELDS,
  S_ATOMIC_OPS_IN, S_ATOMIC_OPS_OUT, S_GET_BYTES_IN, S_GET_BYTES_OUT, S_GET_OPS_IN, S_GET_OPS_OUT,
  S_INTERNAL_BYTES_IN, S_INTERNAL_BYTES_OUT, S_INTERNAL_OPS_IN, S_INTERNAL_OPS_OUT, S_MSG_BYTES_IN,
  S_MSG_BYTES_OUT, S_MSG_OPS_IN, S_MSG_OPS_OUT, S_NOTIFY_OPS_IN, S_NOTIFY_OPS_OUT, S_PUT_BYTES_IN,
  S_PUT_BYTES_OUT, S_PUT_OPS_IN, S_PUT_OPS_OUT,
} from './stats-layout.js';

export interface TrafficCounters {
  putOps: number;
  putBytes: number;
  getOps: number;
  getBytes: number;
  notifyOps: number;
  atomicOps: number;
  messageOps: number;
  messageBytes: number;
  /** the runtime's own traffic with this peer (collectives, ping, kill) */
  internalOps: number;
  internalBytes: number;
}

export interface PeerStats {
  rank: number;
  /** what this rank posted to the peer (a putNotify counts as one put and one notify) */
  sent: TrafficCounters;
  /**
   * what the peer did to this rank: puts and notifications applied here, gets served from here,
   * atomics applied here, passive messages received. Undefined where the transport cannot see it (ucx:
   * remote memory access does not involve the target's CPU).
   */
  received: TrafficCounters | undefined;
}

export interface RankStats {
  rank: number;
  transport: string;
  peers: PeerStats[];
  /** completed wait() calls and the milliseconds spent in them */
  waits: number;
  waitMs: number;
  /** completed waitNotify() calls and the milliseconds spent in them */
  notifyWaits: number;
  notifyWaitMs: number;
  /** barrier/allreduce/broadcast calls and the milliseconds spent in them */
  collectives: number;
  collectiveMs: number;
}

function counters(w: Float64Array, base: number, out: boolean): TrafficCounters {
  const pick = (o: number, i: number): number => w[base + (out ? o : i)]!;
  return {
    putOps: pick(S_PUT_OPS_OUT, S_PUT_OPS_IN),
    putBytes: pick(S_PUT_BYTES_OUT, S_PUT_BYTES_IN),
    getOps: pick(S_GET_OPS_OUT, S_GET_OPS_IN),
    getBytes: pick(S_GET_BYTES_OUT, S_GET_BYTES_IN),
    notifyOps: pick(S_NOTIFY_OPS_OUT, S_NOTIFY_OPS_IN),
    atomicOps: pick(S_ATOMIC_OPS_OUT, S_ATOMIC_OPS_IN),
    messageOps: pick(S_MSG_OPS_OUT, S_MSG_OPS_IN),
    messageBytes: pick(S_MSG_BYTES_OUT, S_MSG_BYTES_IN),
    internalOps: pick(S_INTERNAL_OPS_OUT, S_INTERNAL_OPS_IN),
    internalBytes: pick(S_INTERNAL_BYTES_OUT, S_INTERNAL_BYTES_IN),
  };
}

/** A snapshot of the counters (plain numbers: safe to keep, print or send). */
export function readStats(stats: Float64Array, rank: number, size: number, transport: string, seesIncoming: boolean): RankStats {
  const g = size * PEER_FIELDS;
  const peers: PeerStats[] = [];
  for (let p = 0; p < size; p++) {
    const base = p * PEER_FIELDS;
    const received = counters(stats, base, false);
    if (!seesIncoming) {
      // One-sided traffic is invisible to the target here; passive messages are still counted.
      peers.push({ rank: p, sent: counters(stats, base, true), received: undefined });
      continue;
    }
    peers.push({ rank: p, sent: counters(stats, base, true), received });
  }
  return {
    rank,
    transport,
    peers,
    waits: stats[g + G_WAITS]!,
    waitMs: stats[g + G_WAIT_MS]!,
    notifyWaits: stats[g + G_NOTIFY_WAITS]!,
    notifyWaitMs: stats[g + G_NOTIFY_WAIT_MS]!,
    collectives: stats[g + G_COLLECTIVES]!,
    collectiveMs: stats[g + G_COLLECTIVE_MS]!,
  };
}

/** Zero every counter this rank writes itself (the "in" words belong to their writers and stay). */
export function resetOwnStats(stats: Float64Array, size: number): void {
  const outFields = [S_PUT_OPS_OUT, S_PUT_BYTES_OUT, S_GET_OPS_OUT, S_GET_BYTES_OUT, S_NOTIFY_OPS_OUT, S_ATOMIC_OPS_OUT, S_MSG_OPS_OUT, S_MSG_BYTES_OUT, S_INTERNAL_OPS_OUT, S_INTERNAL_BYTES_OUT, S_MSG_OPS_IN, S_MSG_BYTES_IN];
  for (let p = 0; p < size; p++) for (const f of outFields) stats[p * PEER_FIELDS + f] = 0;
  stats.fill(0, size * PEER_FIELDS);
}

function sum(list: TrafficCounters[]): TrafficCounters {
  const total: TrafficCounters = { putOps: 0, putBytes: 0, getOps: 0, getBytes: 0, notifyOps: 0, atomicOps: 0, messageOps: 0, messageBytes: 0, internalOps: 0, internalBytes: 0 };
  for (const c of list) for (const k of Object.keys(total) as (keyof TrafficCounters)[]) total[k] += c[k];
  return total;
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1 << 20) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1 << 30) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  return `${(n / (1 << 30)).toFixed(2)} GiB`;
}

/**
 * Human-readable lines for one rank (what the launcher's summary prints with --stats): totals, then
 * one line per peer with any traffic.
 */
export function formatStats(s: RankStats): string[] {
  const sent = sum(s.peers.map((p) => p.sent));
  const received = s.peers.every((p) => p.received) ? sum(s.peers.map((p) => p.received!)) : undefined;
  const line = (c: TrafficCounters): string =>
    `put ${c.putOps} (${bytes(c.putBytes)}), get ${c.getOps} (${bytes(c.getBytes)}), notify ${c.notifyOps}, atomic ${c.atomicOps}, msg ${c.messageOps} (${bytes(c.messageBytes)}), internal ${c.internalOps} (${bytes(c.internalBytes)})`;
  const lines = [
    `rank ${s.rank} [${s.transport}]: waits ${s.waits} (${s.waitMs.toFixed(1)} ms), waitNotify ${s.notifyWaits} (${s.notifyWaitMs.toFixed(1)} ms), collectives ${s.collectives} (${s.collectiveMs.toFixed(1)} ms)`,
    `  sent:     ${line(sent)}`,
    `  received: ${received ? line(received) : 'not visible on this transport'}`,
  ];
  for (const p of s.peers) {
    const busy = (c: TrafficCounters | undefined): boolean => !!c && Object.values(c).some((v) => v !== 0);
    if (p.rank === s.rank && !busy(p.sent)) continue;
    if (!busy(p.sent) && !busy(p.received)) continue;
    lines.push(`  peer ${p.rank}: out ${line(p.sent)}${p.received ? ` | in ${line(p.received)}` : ''}`);
  }
  return lines;
}

/** The one-line record a rank prints at close when PGAS_STATS=1 (the launcher collects these lines). */
export const STATS_LINE_PREFIX = 'PGAS_STATS ';

/** Peers without any traffic are left out, to keep the line short on large jobs. */
export function statsLine(s: RankStats): string {
  const busy = (c: TrafficCounters | undefined): boolean => !!c && Object.values(c).some((v) => v !== 0);
  return `${STATS_LINE_PREFIX}${JSON.stringify({ ...s, peers: s.peers.filter((p) => busy(p.sent) || busy(p.received)) })}`;
}
