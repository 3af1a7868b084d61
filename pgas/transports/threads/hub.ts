import { Worker } from 'node:worker_threads';
import type { PgasConfig } from '../../config.js';
import { SharedState } from '../../shared-state.js';
import type { FromHub, ThreadRankInit, ToHub } from './messages.js';

export interface ThreadRunOptions {
  config: PgasConfig;
  argv?: string[];
  /** extra workerData fields for the rank threads (e.g. a solver's shared buffers) */
  workerData?: Record<string, unknown>;
}

export interface ThreadRunResult {
  /** per rank: the thread's exit code (1 for an uncaught error) */
  exitCodes: number[];
  errors: (unknown | undefined)[];
}

interface Pending {
  origin: number;
  waiting: Set<number>;
}

/**
 * Runs `size` ranks as worker threads of this process and relays their control messages: segment
 * announcements (with the SharedArrayBuffers themselves, so that peers copy straight into them),
 * passive messages. Data never passes through here: one-sided calls copy between shared buffers.
 */
export function runThreadRanks(size: number, entry: string | URL, options: ThreadRunOptions): Promise<ThreadRunResult> {
  const states = Array.from({ length: size }, () => SharedState.create(size, options.config));
  const inits = states.map((s) => s.toInit());
  const workers: Worker[] = [];
  const open = new Set<number>();
  const pending = new Map<string, Pending>();
  const exitCodes = new Array<number>(size).fill(0);
  const errors = new Array<unknown>(size).fill(undefined);
  let running = size;

  const settle = (key: string, rank: number): void => {
    const p = pending.get(key);
    if (!p) return;
    p.waiting.delete(rank);
    if (p.waiting.size === 0) {
      pending.delete(key);
      const req = Number(key.split(':')[1]);
      if (open.has(p.origin)) workers[p.origin]!.postMessage({ t: 'done', req } satisfies FromHub);
    }
  };

  const leave = (rank: number, dead: boolean): void => {
    open.delete(rank);
    if (dead) for (const s of states) s.markDead(rank);
    for (const key of [...pending.keys()]) settle(key, rank);
  };

  const onMessage = (rank: number, msg: ToHub): void => {
    switch (msg.t) {
      case 'seg':
      case 'unseg': {
        const key = `${rank}:${msg.req}`;
        const waiting = new Set([...open].filter((r) => r !== rank));
        pending.set(key, { origin: rank, waiting });
        for (const r of waiting) {
          const out: FromHub = msg.t === 'seg'
            ? { t: 'seg', req: msg.req, origin: rank, slot: msg.slot, bytes: msg.bytes, byteOffset: msg.byteOffset ?? 0, data: msg.data, notifications: msg.notifications }
            : { t: 'unseg', req: msg.req, origin: rank, slot: msg.slot };
          workers[r]!.postMessage(out);
        }
        if (waiting.size === 0) {
          pending.delete(key);
          workers[rank]!.postMessage({ t: 'done', req: msg.req } satisfies FromHub);
        }
        break;
      }
      case 'ack':
        settle(`${msg.origin}:${msg.req}`, rank);
        break;
      case 'send':
        if (open.has(msg.to)) workers[msg.to]!.postMessage({ t: 'msg', from: rank, data: msg.data } satisfies FromHub, [msg.data.buffer as ArrayBuffer]);
        break;
      case 'closing':
        leave(rank, false);
        break;
    }
  };

  return new Promise((resolve) => {
    for (let rank = 0; rank < size; rank++) {
      const init: ThreadRankInit = { rank, size, config: options.config, states: inits };
      const worker = new Worker(entry, {
        workerData: { ...options.workerData, pgasThreads: init },
        argv: options.argv ?? [],
        env: { ...process.env, PGAS_RANK: String(rank), PGAS_SIZE: String(size), PGAS_TRANSPORT: 'threads' },
      });
      workers.push(worker);
      open.add(rank);
      worker.on('message', (msg: ToHub) => onMessage(rank, msg));
      worker.on('error', (error) => {
        errors[rank] = error;
        process.stderr.write(`[pgas threads] rank ${rank} failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
      });
      worker.on('exit', (code) => {
        exitCodes[rank] = code;
        leave(rank, code !== 0);
        if (--running === 0) resolve({ exitCodes, errors });
      });
    }
  });
}
