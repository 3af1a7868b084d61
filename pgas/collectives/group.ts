import { InvalidArgumentError, PeerDeadError, ResourceLimitError, TimeoutError } from '../errors.js';
import { INTERNAL_SEGMENTS } from '../shared-state.js';
import type { PgasContext } from '../context.js';
import { deadlineAfter, remaining } from '../waiting.js';

/**
 * A set of ranks that run collectives together. Each group owns an internal segment on every member
 * (slot >= maxSegments) laid out as below; C is config.collectiveChunkBytes, m the member count.
 *
 *   data:  staging C | reduced S | scatter m*S | gather C | broadcast C | ping 8     (S = per-member block)
 *   notification ids: barrier 0..63 (parity*32 + round) | scatter 2m | gather 2m | bcast data 2 | bcast ack 2m | kill 1
 *
 * (ping and kill are used on the world group only: ping is an atomic on the ping word, kill a
 * notification that the target's kill watcher acts on.)
 *
 * Every collective step takes the next sequence number; ids are split by its parity. A member can be
 * at most one step ahead of another (each step needs every member's contribution), so two steps that
 * share a parity never overlap at any rank.
 */
export class Group {
  readonly ranks: readonly number[];
  /** this rank's position in `ranks`, -1 if not a member */
  readonly index: number;
  readonly slot: number;
  /** @internal */ seq = 0;
  readonly layout: GroupLayout;

  constructor(ctx: PgasContext, ranks: readonly number[], slot: number) {
    this.ranks = ranks;
    this.index = ranks.indexOf(ctx.rank);
    this.slot = slot;
    this.layout = groupLayout(ranks.length, ctx.config.collectiveChunkBytes);
    if (this.layout.notificationIds > ctx.config.notificationsPerSegment) {
      throw new ResourceLimitError(`a group of ${ranks.length} ranks needs ${this.layout.notificationIds} notification ids per segment; raise notificationsPerSegment`);
    }
  }

  get size(): number {
    return this.ranks.length;
  }

  /** @internal next step: its notification parity and a non-zero value */
  nextStep(): { parity: number; value: number } {
    this.seq = (this.seq + 1) % 0x3fffffff;
    return { parity: this.seq & 1, value: this.seq + 1 };
  }
}

export interface GroupLayout {
  chunk: number;
  block: number;
  staging: number;
  reduced: number;
  scatter: number;
  gather: number;
  broadcast: number;
  ping: number;
  bytes: number;
  barrierIds: number;
  scatterIds: number;
  gatherIds: number;
  bcastIds: number;
  bcastAckIds: number;
  killId: number;
  notificationIds: number;
}

function roundUp8(n: number): number {
  return Math.ceil(n / 8) * 8;
}

export function groupLayout(members: number, chunk: number): GroupLayout {
  const block = roundUp8(Math.ceil(chunk / members) + 8);
  const staging = 0;
  const reduced = chunk;
  const scatter = reduced + block;
  const gather = scatter + members * block;
  const broadcast = gather + chunk;
  const ping = broadcast + chunk;
  const bytes = ping + 8;
  const barrierIds = 0;
  const scatterIds = 64;
  const gatherIds = scatterIds + 2 * members;
  const bcastIds = gatherIds + 2 * members;
  const bcastAckIds = bcastIds + 2;
  const killId = bcastAckIds + 2 * members;
  return {
    chunk, block, staging, reduced, scatter, gather, broadcast, ping, bytes,
    barrierIds, scatterIds, gatherIds, bcastIds, bcastAckIds, killId, notificationIds: killId + 1,
  };
}

export async function createWorldGroup(ctx: PgasContext, world: Group, timeoutMs: number): Promise<void> {
  await ctx.createSlot(world.slot, world.layout.bytes, { collective: true, group: world, timeoutMs });
}

const occurrences = new WeakMap<PgasContext, Map<string, number>>();

function hashString(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

/**
 * Members agree on the group's internal slot without talking: it is derived from the sorted member
 * list and how many times this list has been made into a group before. Two live groups of one rank
 * that land on the same slot are refused (ResourceLimitError); at most INTERNAL_SEGMENTS - 1 live.
 */
export async function createGroupCollective(ctx: PgasContext, ranks: readonly number[], timeoutMs: number): Promise<Group> {
  if (!Array.isArray(ranks) || ranks.length === 0) throw new InvalidArgumentError('a group needs a non-empty list of ranks');
  const sorted = [...ranks].sort((a, b) => a - b);
  for (let i = 0; i < sorted.length; i++) {
    const r = sorted[i]!;
    if (!Number.isInteger(r) || r < 0 || r >= ctx.size) throw new InvalidArgumentError(`group rank ${String(r)} is not in [0, ${ctx.size - 1}]`);
    if (i > 0 && sorted[i - 1] === r) throw new InvalidArgumentError(`group rank ${r} is listed twice`);
  }
  if (!sorted.includes(ctx.rank)) throw new InvalidArgumentError(`rank ${ctx.rank} must be a member of the groups it creates`);
  const key = sorted.join(',');
  let counts = occurrences.get(ctx);
  if (!counts) occurrences.set(ctx, (counts = new Map()));
  const occurrence = counts.get(key) ?? 0;
  counts.set(key, occurrence + 1);
  const slot = ctx.config.maxSegments + 1 + (hashString(`${key}#${occurrence}`) % (INTERNAL_SEGMENTS - 1));
  if (ctx.slot(slot)) {
    throw new ResourceLimitError(`no free collective slot for group [${key}] (its slot ${slot} is taken by another live group): delete a group first`);
  }
  const group = new Group(ctx, sorted, slot);
  await ctx.createSlot(slot, group.layout.bytes, { collective: true, group, timeoutMs });
  return group;
}

export async function deleteGroupSegment(ctx: PgasContext, group: Group): Promise<void> {
  if (group === ctx.world) throw new InvalidArgumentError('the world group cannot be deleted');
  await ctx.barrier(group);
  await ctx.deleteSlot(group.slot);
}

/**
 * Wait for internal notification `id` of the group's segment, set by member `from`, then clear it.
 * Wakes every 100 ms to notice a dead member, so a collective never hangs on a dead rank.
 */
export async function awaitSignal(ctx: PgasContext, group: Group, id: number, from: number, deadline: number, what: string): Promise<void> {
  for (;;) {
    const left = remaining(deadline);
    try {
      await ctx.waitNotifySlot(group.slot, id, 1, Math.min(left, 100));
      ctx.resetNotifySlot(group.slot, id);
      return;
    } catch (error) {
      if (!(error instanceof TimeoutError)) throw error;
      if (!ctx.shared.alive(from)) throw new PeerDeadError(from, `${what}: rank ${from} died`);
      // A member that died elsewhere in the group dooms the collective too: the members that waited on
      // it fail and leave, and a rank waiting on one of them (alive, but gone from the collective)
      // would otherwise wait forever.
      for (const r of group.ranks) if (!ctx.shared.alive(r)) throw new PeerDeadError(r, `${what}: rank ${r} of the group died`);
      if (remaining(deadline) === 0) throw new TimeoutError(`${what}: rank ${from} did not arrive in time`);
    }
  }
}

export { deadlineAfter };
