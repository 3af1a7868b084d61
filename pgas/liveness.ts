/**
 * GASPI proc_kill on any transport: the killer raises the kill notification of the victim's world
 * group segment (value: killer rank + 1); every rank runs a watcher that looks at that word and, when
 * it is set, ends the rank with KILLED_EXIT_CODE. Peers then see the rank die the way they see any
 * death (its connections drop, the heartbeat stops, the threads host marks it dead).
 *
 * The watcher is a timer, not a waiter on the word: it must not keep the process alive (unref) and it
 * must not wake on every collective step that touches the same segment's counter.
 */
export const KILLED_EXIT_CODE = 137;
const WATCH_MS = 20;

export function watchForKill(words: Int32Array, id: number, rank: number, onKill?: (killer: number) => void): () => void {
  const timer = setInterval(() => {
    const value = Atomics.load(words, id);
    if (value === 0) return;
    clearInterval(timer);
    const killer = value - 1;
    if (onKill) {
      onKill(killer);
      return;
    }
    process.stderr.write(`pgas: rank ${rank} was killed by rank ${killer} (kill(${rank})); exiting with code ${KILLED_EXIT_CODE}\n`);
    process.exit(KILLED_EXIT_CODE);
  }, WATCH_MS);
  timer.unref();
  return () => clearInterval(timer);
}
