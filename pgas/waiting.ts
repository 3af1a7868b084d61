/**
 * Sleeping on a shared word without blocking the event loop: poll for a few microseconds (a remote
 * write usually lands within them, and waking from Atomics.waitAsync costs far more), then
 * Atomics.waitAsync until the word changes or the time runs out.
 */
export type WaitOutcome = 'changed' | 'timed-out';

export async function waitWhileEquals(
  words: Int32Array,
  index: number,
  value: number,
  timeoutMs: number,
  spinMicros: number,
): Promise<WaitOutcome> {
  if (Atomics.load(words, index) !== value) return 'changed';
  if (timeoutMs <= 0) return 'timed-out';
  if (spinMicros > 0) {
    const end = performance.now() + Math.min(spinMicros / 1000, timeoutMs);
    while (performance.now() < end) {
      if (Atomics.load(words, index) !== value) return 'changed';
    }
  }
  const result = Atomics.waitAsync(words, index, value, timeoutMs === Infinity ? undefined : timeoutMs);
  const outcome = result.async ? await result.value : result.value;
  return outcome === 'timed-out' ? 'timed-out' : 'changed';
}

/** Milliseconds left until `deadline` (performance.now() based); Infinity stays Infinity. */
export function remaining(deadline: number): number {
  return deadline === Infinity ? Infinity : Math.max(0, deadline - performance.now());
}

export function deadlineAfter(timeoutMs: number): number {
  return timeoutMs === Infinity ? Infinity : performance.now() + timeoutMs;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
