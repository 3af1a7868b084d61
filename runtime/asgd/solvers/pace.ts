/** Yield to the event loop now and then, so that timers and messages of this thread still run. */
export class Breather {
  private last = performance.now();
  constructor(private readonly everyMs = 50) {}
  due(): boolean {
    const now = performance.now();
    if (now - this.last < this.everyMs) return false;
    this.last = now;
    return true;
  }
}

export function yieldNow(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
