/**
 * Checkpoints are never half-written: a process writing 1,000,000-float checkpoints back to back is
 * SIGKILLed at random moments, many times over the same file (the next writer removes the temporary
 * the killed one left). After every kill the checkpoint (or,
 * if the kill fell between the two renames, the one kept beside it) loads, holds one step's values
 * only, and is no older than the last write that had returned. A truncated copy, as a naive
 * overwrite would leave, is refused with CheckpointCorruptError (the check can fail).
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckpointCorruptError } from '../runtime/asgd/errors.js';
import { readCheckpoint, readCheckpoints } from '../runtime/asgd/run/checkpoint.js';
import { fixturePath } from './helpers/job.js';

const FLOATS = 1_000_000;
const KILLS = 12;

/** Start the writer, let it write until `afterWrites` writes have returned plus a random extra, then SIGKILL it. */
function writeAndKill(file: string, firstStep: number, afterWrites: number): Promise<{ lastWritten: number; writes: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fixturePath('fault-ckpt-writer.js'), file, String(FLOATS), String(firstStep)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let killed = false;
    const hang = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`writer hung: ${err}`)); }, 60000);
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const writes = (out.match(/WROTE/g) ?? []).length;
      if (!killed && writes >= afterWrites) {
        killed = true;
        // land anywhere inside the next write (a 4 MB write + fsync takes milliseconds here)
        setTimeout(() => child.kill('SIGKILL'), Math.floor(Math.random() * 15));
      }
    });
    child.on('close', (_code, signal) => {
      clearTimeout(hang);
      if (signal !== 'SIGKILL') { reject(new Error(`writer ended with ${String(signal)}: ${err}`)); return; }
      const steps = [...out.matchAll(/WROTE (\d+)/g)].map((m) => Number(m[1]));
      resolve({ lastWritten: steps.at(-1) ?? firstStep - 1, writes: steps.length });
    });
  });
}

test.serial('a checkpoint killed mid-write leaves the previous one intact and loadable', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fault-ckpt-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'rank-0.ckpt');
  let next = 1;
  let midWrite = 0;
  let fellBack = 0;
  let totalWrites = 0;
  let newestFile = file;
  for (let round = 0; round < KILLS; round++) {
    const { lastWritten, writes } = await writeAndKill(file, next, 2 + Math.floor(Math.random() * 4));
    totalWrites += writes;
    const temps = readdirSync(dir).filter((f) => f.includes('.tmp-'));
    t.true(temps.length <= 1, `round ${round}: stale temporaries pile up: ${temps.join(', ')}`);
    if (temps.length > 0) midWrite++;
    const found = readCheckpoints(file); // throws CheckpointCorruptError on a torn file
    t.true(found.length > 0, `round ${round}: no checkpoint left`);
    const newest = found[0]!;
    if (newest.file !== file) fellBack++;
    newestFile = newest.file;
    const step = newest.checkpoint.meta.step;
    t.true(step >= lastWritten, `round ${round}: checkpoint of step ${step}, but step ${lastWritten} had been written`);
    t.true(step <= lastWritten + 1, `round ${round}: step ${step} from nowhere`);
    for (const { checkpoint } of found) {
      const params = checkpoint.arrays.params!;
      t.is(params.length, FLOATS);
      const s = checkpoint.meta.step;
      t.true(params.every((v) => v === s), `round ${round}: step ${s} holds values of another step`);
    }
    next = step + 1;
  }
  t.log(`${KILLS} kills over ${totalWrites} completed writes of ${FLOATS} floats; ${midWrite} kills left a temporary (killed mid-write), ${fellBack} found only the kept previous checkpoint`);

  // positive control: a half-written file, as an in-place overwrite leaves it, is refused
  // (copied from whichever checkpoint survived the last kill: the main file is absent when that
  // kill fell between the two renames)
  const torn = join(dir, 'torn.ckpt');
  copyFileSync(newestFile, torn);
  truncateSync(torn, Math.floor(statSync(torn).size / 2));
  t.throws(() => readCheckpoint(torn), { instanceOf: CheckpointCorruptError });
});
