/**
 * One rank of the connection benchmark (bench/connections-main.ts): joins the job (PGAS_CONNECTIONS
 * says lazy or eager), counts the sockets this process holds once every rank has started and passed a
 * barrier (a lazy rank then holds the dissemination barrier's log2(N) links), and prints one RESULT line.
 */
import { init } from '../pgas/index.js';
import { countSockets } from './sockets.js';

const started = Number(process.env.BENCH_SPAWNED_AT ?? Date.now());
const ctx = await init();
const initMs = Date.now() - started;
await ctx.barrier();
const readyMs = Date.now() - started;
const sockets = countSockets();
await ctx.barrier();
// connections() lists this rank too: the data links are one fewer
console.log(`RESULT ${JSON.stringify({ rank: ctx.rank, initMs, readyMs, sockets, links: ctx.connections().length - 1 })}`);
await ctx.close();
