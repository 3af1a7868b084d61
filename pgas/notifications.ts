/**
 * Notification words of a segment: Int32 per id, then one change counter (the last word). Whoever sets
 * an id bumps the counter and wakes its waiters, so that `waitNotify` over any range sleeps on one word.
 */
export function setNotification(words: Int32Array, id: number, value: number): void {
  Atomics.store(words, id, value);
  const counter = words.length - 1;
  Atomics.add(words, counter, 1);
  Atomics.notify(words, counter);
}

export function notificationWordCount(notificationsPerSegment: number): number {
  return notificationsPerSegment + 1;
}
