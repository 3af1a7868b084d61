import type { PassiveMessage } from './transport.js';

type Receiver = (message: PassiveMessage | undefined) => void;

/**
 * The receiving side of passive (two-sided) messages, shared by every transport: messages wait here
 * in arrival order until a receive() takes them, and receive() calls wait here (oldest first) until a
 * message arrives or their time runs out. A transport only calls deliver() when one arrives.
 */
export class PassiveInbox {
  private readonly queued: PassiveMessage[] = [];
  private readonly receivers: Receiver[] = [];

  /** Hands `message` to the longest-waiting receive(), or queues it for the next one. */
  deliver(message: PassiveMessage): void {
    const receiver = this.receivers.shift();
    if (receiver) receiver(message);
    else this.queued.push(message);
  }

  /** Next message in arrival order; `timeoutMs` 0 only tests, Infinity waits without a timer. */
  receive(timeoutMs: number): Promise<PassiveMessage | undefined> {
    const ready = this.queued.shift();
    if (ready || timeoutMs <= 0) return Promise.resolve(ready);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const receiver: Receiver = (message) => {
        if (timer) clearTimeout(timer);
        resolve(message);
      };
      this.receivers.push(receiver);
      if (timeoutMs !== Infinity) {
        timer = setTimeout(() => {
          // Out of the queue first: a message arriving later must go to a receiver still waiting.
          const i = this.receivers.indexOf(receiver);
          if (i >= 0) this.receivers.splice(i, 1);
          resolve(undefined);
        }, timeoutMs);
      }
    });
  }

  /** Every receive() still waiting resolves undefined (the transport is closing: nothing more comes). */
  releaseReceivers(): void {
    for (const receiver of this.receivers.splice(0)) receiver(undefined);
  }
}
