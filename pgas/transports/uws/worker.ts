/**
 * Entry point of a uws rank's communication worker thread (started by UwsTransport). Runs the Engine
 * and relays control messages; the hot path (posted operations) does not pass through here.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { describeError, Engine } from './engine.js';
import type { FromWorker, ToWorker, WorkerInit } from './messages.js';

const port = parentPort!;
const post = (message: FromWorker, transfer?: ArrayBuffer[]): void => port.postMessage(message, transfer);
const engine = new Engine(workerData as WorkerInit, post);

port.on('message', (message: ToWorker) => {
  engine.control(message);
  // After close nothing more is expected: let the thread end once its sockets are closed.
  if (message.t === 'close') port.unref();
});

engine.start().then(
  () => post({ t: 'ready', endpoint: engine.endpoint }),
  async (error: unknown) => {
    post({ t: 'failed', ...describeError(error) });
    await engine.abort();
    port.unref();
  },
);
