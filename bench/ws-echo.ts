/**
 * The floor of the uws transport's stack: a plain npm `ws` client talking to a uWebSockets.js echo
 * server in another process, with nothing of ours in between. Started by bench/pgas.ts:
 *
 *   node dist/bench/ws-echo.js server               prints `WSECHO-PORT <port>`; ends when stdin closes
 *   node dist/bench/ws-echo.js client PORT QUICK     prints `WSECHO <json RawRecord>` lines
 *
 * Figures: the 8 B round trip (send, wait for the echo; a fixed-count loop timed per iteration) and
 * its half as the one-way time; the one-way bandwidth at the put bandwidth's sizes (4 KiB .. 4 MiB):
 * the client sends as many messages as the put benchmark has ops in flight (64 x 4 KiB .. 4 x 4 MiB),
 * the server answers each message larger than 1 KiB with an 8 B ack instead of echoing it, and the
 * client waits for all the acks (the same shape as N puts and one wait(queue)), timed by tinybench.
 */
import { createRequire } from 'node:module';
import type * as UWS from '@trufflesuite/uws-js-unofficial';
import { Bench } from 'tinybench';
import WebSocket from 'ws';
import { BANDWIDTH_SIZES, ECHO_PORT_TAG, ECHO_RTT_BYTES, ECHO_TAG } from './pgas-spec.js';
import { bandwidthRecord, latencyRecord, type RawRecord } from './stats.js';

/** messages up to this size are echoed; larger ones are answered with an 8 B ack */
const ECHO_LIMIT = 1024;

function server(): void {
  const uWS = createRequire(import.meta.url)('@trufflesuite/uws-js-unofficial') as typeof UWS;
  const ack = new Uint8Array(8);
  let listenSocket: UWS.us_listen_socket | false = false;
  const open = new Set<UWS.WebSocket<unknown>>();
  const app = uWS.App().ws('/*', {
    open: (ws) => void open.add(ws),
    close: (ws) => void open.delete(ws),
    compression: 0,
    maxPayloadLength: 64 << 20,
    maxBackpressure: 64 << 20,
    idleTimeout: 0,
    message: (ws, msg) => {
      if (msg.byteLength <= ECHO_LIMIT) ws.send(msg, true);
      else ws.send(ack, true);
    },
  });
  app.listen('127.0.0.1', 0, (token) => {
    if (!token) {
      process.stderr.write('ws-echo server: cannot listen on 127.0.0.1\n');
      process.exit(1);
    }
    listenSocket = token;
    process.stdout.write(`${ECHO_PORT_TAG} ${uWS.us_socket_local_port(token as unknown as UWS.us_socket)}\n`);
  });
  const stop = (): void => {
    if (listenSocket) uWS.us_listen_socket_close(listenSocket);
    listenSocket = false;
    for (const ws of [...open]) ws.close();
    open.clear();
  };
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
}

async function client(port: number, quick: boolean): Promise<void> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`, {
    perMessageDeflate: false,
    // a zero mask: ws then skips masking instead of XOR-ing the payload into a copy
    generateMask: () => {},
    maxPayload: 64 << 20,
    skipUTF8Validation: true,
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let received = 0;
  let want = 0;
  let wake: (() => void) | undefined;
  ws.on('message', () => {
    received++;
    if (received >= want && wake) {
      const w = wake;
      wake = undefined;
      w();
    }
  });
  const expect = (count: number): Promise<void> => {
    want = received + count;
    return new Promise<void>((resolve) => {
      if (received >= want) resolve();
      else wake = resolve;
    });
  };
  const emit = (r: RawRecord): void => void process.stdout.write(`${ECHO_TAG} ${JSON.stringify(r)}\n`);
  const sendOptions = { binary: true, compress: false } as const;

  // 8 B round trip
  const small = Buffer.alloc(ECHO_RTT_BYTES, 7);
  const warmup = quick ? 200 : 2000;
  const n = quick ? 1000 : 10000;
  const samples = new Float64Array(n);
  for (let i = -warmup; i < n; i++) {
    const t0 = performance.now();
    const done = expect(1);
    ws.send(small, sendOptions);
    await done;
    if (i >= 0) samples[i] = performance.now() - t0;
  }
  emit(latencyRecord('ws-echo', ECHO_RTT_BYTES, 'rtt_us', samples, n, 'loop'));
  emit(latencyRecord('ws-echo', ECHO_RTT_BYTES, 'one_way_us', samples, n, 'loop', 0.5));

  // one-way bandwidth at the sizes of the put bandwidth, with as many messages in flight, then their acks
  const time = quick ? 120 : 400;
  for (const [bytes, inflight] of BANDWIDTH_SIZES) {
    const payload = Buffer.alloc(bytes, 1);
    const bench = new Bench({
      time,
      warmupTime: quick ? 40 : 120,
      iterations: Math.max(5, Math.min(quick ? 16 : 40, Math.floor(time / Math.max((bytes * inflight) / 1e6, 1e-3)))),
      warmupIterations: 3,
      throws: true,
    });
    bench.add(`ws ${bytes} B x${inflight}`, async () => {
      const done = expect(inflight);
      for (let i = 0; i < inflight; i++) ws.send(payload, sendOptions);
      await done;
    });
    await bench.run();
    const result = bench.tasks[0]!.result;
    if (result.state !== 'completed') throw new Error(`ws echo bandwidth task (${bytes} B) ended ${result.state}`);
    const l = result.latency;
    emit(bandwidthRecord('ws-echo', bytes, bytes * inflight, l.p50, l.mean, l.min, l.samplesCount, inflight, 'tinybench'));
  }
  ws.close();
}

const mode = process.argv[2];
if (mode === 'server') server();
else if (mode === 'client') await client(Number(process.argv[3]), process.argv[4] === 'quick');
else {
  process.stderr.write(`ws-echo: unknown mode '${mode ?? ''}' (server | client PORT [quick])\n`);
  process.exit(2);
}
