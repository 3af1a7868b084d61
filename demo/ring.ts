/**
 * A small multi-rank demo of the PGAS calls: every rank writes a greeting into its right neighbour's
 * segment with putNotify, reads its left neighbour's segment with get, and the job sums a vector
 * with allreduce. Run it with `pgas-run -n 4 demo` (npm start does).
 */
import { init } from '../pgas/index.js';

const ctx = await init();
const { rank, size } = ctx;
const seg = await ctx.createSegment(0, 4096);
const right = (rank + 1) % size;
const left = (rank + size - 1) % size;

seg.f32.fill(rank + 0.5, 0, 16);
ctx.putNotify(0, 0, right, 0, 1024, 64, 1, rank + 1, 0);
await ctx.wait(0);
const [id] = await ctx.waitNotify(0, 1, 1, 10000);
const from = ctx.resetNotify(0, id!) - 1;
console.log(`rank ${rank} putNotify: got 16 floats = ${seg.f32[256]} from rank ${from} (notification ${id})`);

ctx.get(0, 2048, left, 0, 0, 64, 0);
await ctx.wait(0);
console.log(`rank ${rank} get: read rank ${left}'s first float = ${seg.f32[512]}`);

const counter = await ctx.fetchAdd(0, 0, 3072, 1n);
const vector = new Float64Array([rank, 1]);
await ctx.allreduce(vector, vector, 'sum');
await ctx.barrier();
console.log(`rank ${rank} fetchAdd on rank 0 returned ${counter}; allreduce: sum of ranks = ${vector[0]}, ranks = ${vector[1]}`);
await ctx.close();
