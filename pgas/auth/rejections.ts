/**
 * One stderr line per rejected connection, with its remote address, but rate-limited: a flood of
 * hostile connections must not turn into a flood of log lines (or a full disk). At most `burst` lines
 * per window; what is held back is counted and reported once the window ends.
 */
export interface RejectionLogOptions {
  /** lines allowed per window (default 20) */
  burst?: number;
  /** window length in ms (default 1000) */
  windowMs?: number;
}

export class RejectionLog {
  private readonly burst: number;
  private readonly windowMs: number;
  private windowStart = 0;
  private linesInWindow = 0;
  private suppressed = 0;
  private timer: NodeJS.Timeout | undefined;
  /** every rejection counted, logged or not (for tests and summaries) */
  total = 0;

  constructor(private readonly log: (line: string) => void, private readonly prefix: string, options: RejectionLogOptions = {}) {
    this.burst = options.burst ?? 20;
    this.windowMs = options.windowMs ?? 1000;
  }

  /** A connection from `address` was refused because of `reason`. */
  reject(address: string, reason: string): void {
    this.total++;
    const now = Date.now();
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now;
      this.linesInWindow = 0;
    }
    if (this.linesInWindow < this.burst) {
      this.linesInWindow++;
      this.log(`${this.prefix}: rejected a connection from ${address}: ${reason}`);
      return;
    }
    this.suppressed++;
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.windowMs - (now - this.windowStart));
      this.timer.unref();
    }
  }

  private flush(): void {
    this.timer = undefined;
    if (this.suppressed === 0) return;
    const n = this.suppressed;
    this.suppressed = 0;
    this.log(`${this.prefix}: rejected ${n} more connection${n === 1 ? '' : 's'} (not logged one by one: over ${this.burst} per ${this.windowMs} ms)`);
  }
}
