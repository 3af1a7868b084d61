/**
 * Loading the optional native addon (build/Release/pgas_ucx.node, built by pgas/native/build.mjs when
 * UCX's development files are installed). Nothing here throws: callers get a status that says why the
 * transport is unavailable, in words a user can act on.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { ATOMIC_SLOT_BYTES, CTL_WORDS, ENTRY_WORDS } from './layout.js';

export interface MappedSegment {
  data: SharedArrayBuffer;
  notifications: SharedArrayBuffer;
  rkey: Buffer;
  address: bigint;
  notifOffset: number;
}

export interface EngineOptions {
  rank: number;
  size: number;
  slots: number;
  queueCount: number;
  queues: SharedArrayBuffer;
  queuesOffset: number;
  ctl: SharedArrayBuffer;
  ring: SharedArrayBuffer;
  ringEntries: number;
  atomics: SharedArrayBuffer;
  atomicSlots: number;
  spinMicros: number;
  inline: boolean;
  inlineMaxBytes: number;
  onWake: () => void;
}

/** The native engine: one UCX context, worker and progress thread per transport. */
export interface NativeEngine {
  address(): Buffer;
  connect(rank: number, address: Uint8Array): void;
  mapSegment(slot: number, bytes: number, notificationWords: number): MappedSegment;
  unmapSegment(slot: number): void;
  addRemote(rank: number, slot: number, bytes: number, notifOffset: number, notificationWords: number, address: bigint, rkey: Uint8Array): void;
  removeRemote(rank: number, slot: number): void;
  /** run (allowInline) or hand over what the ring holds; returns INLINE_COMPLETED | INLINE_EVENTS bits (layout.ts) */
  kick(allowInline: boolean): number;
  send(rank: number, kind: number, data: Uint8Array): boolean;
  /** events as a flat list: from, AM id, argument, data (Buffer or null) */
  take(): (number | Buffer | null)[];
  peerDead(rank: number): void;
  info(): { lastError: string; inline: boolean; endpoints: string };
  /** this rank's attention word (is its event loop blocked in poll?), for the peers */
  attention(): { address: bigint; rkey: Buffer; word: SharedArrayBuffer };
  /** a peer's attention word; true when it can be read directly (shared memory) */
  addAttention(rank: number, address: bigint, rkey: Uint8Array): boolean;
  close(): void;
}

export interface NativeBinding {
  Engine: new (options: EngineOptions) => NativeEngine;
  version(): string;
  /** '' when UCX can start with the transport's features, otherwise why not */
  probe(): string;
  ctlWords: number;
  entryWords: number;
  atomicSlotBytes: number;
}

export type NativeStatus =
  | { available: true; binding: NativeBinding; ucxVersion: string; path: string }
  | { available: false; reason: string };

/** Where node-gyp puts the addon: build/ at the package root (dist/pgas/transports/ucx → ../../../..). */
export const ADDON_PATH = fileURLToPath(new URL('../../../../build/Release/pgas_ucx.node', import.meta.url));

export const MISSING_PACKAGE_HINT =
  'install UCX\'s development files (Debian/Ubuntu: apt-get install libucx-dev) and rebuild with `npm run install:native`';

let cached: NativeStatus | undefined;

export function loadNative(env: NodeJS.ProcessEnv = process.env): NativeStatus {
  if (env.PGAS_NATIVE_DISABLE === '1') {
    return { available: false, reason: `the native UCX addon is disabled by PGAS_NATIVE_DISABLE=1 (unset it; where the addon is not built, ${MISSING_PACKAGE_HINT})` };
  }
  if (cached) return cached;
  if (!existsSync(ADDON_PATH)) {
    cached = { available: false, reason: `the native UCX addon is not built (no ${ADDON_PATH}): ${MISSING_PACKAGE_HINT}` };
    return cached;
  }
  // Settings UCX reads when it loads; an explicit user setting wins.
  // - UCX installs SIGSEGV/SIGBUS/... handlers unless told not to; Node's own crash reporting must stay.
  // - UCX's memory-event hooks (patched mmap/munmap/brk and malloc hooks, for its registration cache)
  //   corrupted Node's heap here: about one tcp test job in fifteen died in V8's GC on an unmapped heap
  //   page; with the hooks off, none in a hundred. They exist to keep a cache of registrations of user
  //   buffers valid; this transport's segments are registered once, by ucp_mem_map, and need no cache.
  const defaults: Record<string, string> = { UCX_ERROR_SIGNALS: '', UCX_MEM_EVENTS: 'no', UCX_MEM_MALLOC_HOOKS: 'no' };
  for (const [name, value] of Object.entries(defaults)) if (process.env[name] === undefined) process.env[name] = value;
  try {
    const binding = createRequire(import.meta.url)(ADDON_PATH) as NativeBinding;
    if (binding.ctlWords !== CTL_WORDS || binding.entryWords !== ENTRY_WORDS || binding.atomicSlotBytes !== ATOMIC_SLOT_BYTES) {
      cached = { available: false, reason: `the native addon at ${ADDON_PATH} is stale (layout differs): rebuild it with \`npm run install:native\`` };
    } else {
      cached = { available: true, binding, ucxVersion: binding.version(), path: ADDON_PATH };
    }
  } catch (error) {
    cached = {
      available: false,
      reason: `the native UCX addon failed to load (${(error as Error).message.split('\n')[0]}): is the UCX runtime (libucx0) installed? Otherwise ${MISSING_PACKAGE_HINT}`,
    };
  }
  return cached;
}
