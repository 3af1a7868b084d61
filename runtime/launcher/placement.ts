/**
 * Which host each rank runs on. Ranks fill the hostfile's slots in order (rank 0 on the first host), so
 * neighbouring ranks share a host, as gaspi_run and mpirun's default "by slot" mapping do. With
 * --oversubscribe the ranks beyond the slots wrap around and fill the slots again.
 */
import { UsageError } from './errors.js';
import type { HostEntry } from './hostfile.js';

export interface Placement {
  rank: number;
  host: HostEntry;
}

export function placeRanks(ranks: number, hosts: readonly HostEntry[], oversubscribe: boolean): Placement[] {
  const totalSlots = hosts.reduce((sum, h) => sum + h.slots, 0);
  if (ranks > totalSlots && !oversubscribe) {
    const list = hosts.map((h) => `${h.target}: ${h.slots}`).join(', ');
    throw new UsageError(
      `${ranks} ranks do not fit the hostfile's ${totalSlots} slots (${list}); ` +
        'add hosts or slots, lower -n, or pass --oversubscribe',
    );
  }
  const out: Placement[] = [];
  let rank = 0;
  while (rank < ranks) {
    for (const host of hosts) {
      for (let s = 0; s < host.slots && rank < ranks; s++) out.push({ rank: rank++, host });
      if (rank >= ranks) break;
    }
  }
  return out;
}

/** "127.0.0.1: 0-1, localhost: 2-3" for the summary. */
export function describePlacement(placements: readonly Placement[]): string {
  const byHost = new Map<string, number[]>();
  for (const p of placements) {
    const list = byHost.get(p.host.target) ?? [];
    list.push(p.rank);
    byHost.set(p.host.target, list);
  }
  return [...byHost].map(([host, ranks]) => `${host}: ${compressRanks(ranks)}`).join(', ');
}

export function compressRanks(ranks: readonly number[]): string {
  const sorted = [...ranks].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}
