/**
 * The dashboard's curves, kept by the launcher for pages that connect late and for the static report.
 * Memory is bounded for any job length: when `capacity` points are held, every other one is dropped
 * and from then on only every other tick is kept (then every fourth, ...), so the curve always spans
 * the whole job at an even resolution.
 */
import type { HistoryData } from './messages.js';

export class History {
  readonly data: HistoryData;
  private stride = 1;
  private ticks = 0;

  constructor(size: number, readonly capacity = 2000) {
    if (capacity < 2) throw new RangeError('history capacity must be at least 2');
    const perRank = (): (number | null)[][] => Array.from({ length: size }, () => []);
    this.data = { t: [], rate: perRank(), loss: perRank(), error: perRank() };
  }

  get length(): number {
    return this.data.t.length;
  }

  /** one tick's values, one per rank (null: none) */
  add(t: number, rate: readonly (number | null)[], loss: readonly (number | null)[], error: readonly (number | null)[]): void {
    if (this.ticks++ % this.stride !== 0) return;
    if (this.data.t.length >= this.capacity) this.thin();
    this.data.t.push(t);
    rate.forEach((v, r) => this.data.rate[r]!.push(v));
    loss.forEach((v, r) => this.data.loss[r]!.push(v));
    error.forEach((v, r) => this.data.error[r]!.push(v));
  }

  private thin(): void {
    const keepEven = <T>(a: T[]): void => {
      let w = 0;
      for (let i = 0; i < a.length; i += 2) a[w++] = a[i]!;
      a.length = w;
    };
    keepEven(this.data.t);
    for (const series of [this.data.rate, this.data.loss, this.data.error]) series.forEach(keepEven);
    this.stride *= 2;
  }
}
