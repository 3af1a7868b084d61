import type { PgasConfig } from '../../config.js';
import type { SharedStateInit } from '../../shared-state.js';

/** What a rank thread is started with (its workerData.pgasThreads). */
export interface ThreadRankInit {
  rank: number;
  size: number;
  config: PgasConfig;
  /** every rank's shared state: a rank writes peers' directories and reads their health */
  states: SharedStateInit[];
}

/** Rank thread → hub. */
export type ToHub =
  | { t: 'seg'; req: number; slot: number; bytes: number; byteOffset?: number; data: SharedArrayBuffer; notifications: SharedArrayBuffer }
  | { t: 'unseg'; req: number; slot: number }
  | { t: 'ack'; req: number; origin: number }
  | { t: 'send'; to: number; data: Uint8Array }
  | { t: 'closing' };

/** Hub → rank thread. */
export type FromHub =
  | { t: 'seg'; req: number; origin: number; slot: number; bytes: number; byteOffset?: number; data: SharedArrayBuffer; notifications: SharedArrayBuffer }
  | { t: 'unseg'; req: number; origin: number; slot: number }
  | { t: 'done'; req: number }
  | { t: 'msg'; from: number; data: Uint8Array };
