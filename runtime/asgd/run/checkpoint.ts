import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync, existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { CheckpointCorruptError, CheckpointMismatchError } from '../errors.js';
import type { DataCursor } from '../model.js';

const MAGIC = 'ASGDCKP1';

/** What a rank needs to continue exactly where it stopped. */
export interface CheckpointMeta {
  solver: string;
  rank: number;
  size: number;
  paramCount: number;
  optimizer: string;
  optimizerIteration: number;
  /** steps (rounds for distnewton) done */
  step: number;
  samples: number;
  data: DataCursor;
  /** generator states by purpose */
  rngs: Record<string, number[]>;
  /** solver-specific JSON-able values */
  extra: Record<string, unknown>;
}

interface StoredMeta extends CheckpointMeta {
  arrays: { name: string; length: number }[];
}

export interface Checkpoint {
  meta: CheckpointMeta;
  arrays: Record<string, Float32Array>;
}

export function checkpointPath(dir: string, rank: number): string {
  return join(dir, `rank-${rank}.ckpt`);
}

/** The checkpoint before the latest one (kept so that synchronous ranks can meet at a common step). */
export function previousCheckpointPath(file: string): string {
  return `${file}.prev`;
}

/**
 * Write atomically: to a temporary file beside the target, flushed to disk, then renamed over it, so
 * that a crash leaves either the old checkpoint or the new one, never a torn file. The one it replaces
 * is first renamed to `<file>.prev`: a job killed while its ranks were writing one step's checkpoints
 * has that step on some ranks and the step before on all (readCheckpoints returns both). A crash between
 * the two renames leaves only `.prev`, which is read in its place.
 */
export function writeCheckpoint(file: string, meta: CheckpointMeta, arrays: Record<string, Float32Array>): void {
  const stored: StoredMeta = { ...meta, arrays: Object.entries(arrays).map(([name, a]) => ({ name, length: a.length })) };
  const json = Buffer.from(JSON.stringify(stored), 'utf8');
  const head = Buffer.alloc(12);
  head.write(MAGIC, 0, 'latin1');
  head.writeUInt32LE(json.length, 8);
  const pad = Buffer.alloc((4 - (json.length % 4)) % 4);
  const dir = file.slice(0, Math.max(0, file.lastIndexOf('/'))) || '.';
  mkdirSync(dir, { recursive: true });
  const temp = `${file}.tmp-${process.pid}-${threadId}`;
  removeStaleTemporaries(dir, file, temp);
  const fd = openSync(temp, 'w');
  try {
    writeSync(fd, head);
    writeSync(fd, json);
    writeSync(fd, pad);
    for (const a of Object.values(arrays)) writeSync(fd, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  if (existsSync(file)) renameSync(file, previousCheckpointPath(file));
  renameSync(temp, file);
  try {
    const dirFd = openSync(dir, 'r');
    fsyncSync(dirFd);
    closeSync(dirFd);
  } catch {
    // some file systems cannot fsync a directory; the rename is still atomic
  }
}

/** A writer killed mid-write leaves its temporary behind; one rank's file has one writer, so any other is stale. */
function removeStaleTemporaries(dir: string, file: string, own: string): void {
  const prefix = `${basename(file)}.tmp-`;
  for (const name of readdirSync(dir)) {
    if (name.startsWith(prefix) && join(dir, name) !== own) rmSync(join(dir, name), { force: true });
  }
}

export function checkpointExists(file: string): boolean {
  return existsSync(file) || existsSync(previousCheckpointPath(file));
}

/**
 * The checkpoints a rank may resume from, newest first: the latest and the one before it, those that
 * exist. A file that exists but does not read is an error (CheckpointCorruptError): the writes are
 * atomic, so a bad file means something else damaged it, and silently going back would hide that.
 */
export function readCheckpoints(file: string): { file: string; checkpoint: Checkpoint }[] {
  const found: { file: string; checkpoint: Checkpoint }[] = [];
  for (const f of [file, previousCheckpointPath(file)]) if (existsSync(f)) found.push({ file: f, checkpoint: readCheckpoint(f) });
  return found.sort((a, b) => b.checkpoint.meta.step - a.checkpoint.meta.step);
}

export function readCheckpoint(file: string): Checkpoint {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw new CheckpointCorruptError(`cannot read checkpoint ${file}: ${(error as Error).message}`);
  }
  if (bytes.length < 12 || bytes.toString('latin1', 0, 8) !== MAGIC) throw new CheckpointCorruptError(`${file} is not an ASGD checkpoint`);
  const jsonLength = bytes.readUInt32LE(8);
  let meta: StoredMeta;
  try {
    meta = JSON.parse(bytes.toString('utf8', 12, 12 + jsonLength)) as StoredMeta;
  } catch {
    throw new CheckpointCorruptError(`${file}: the header is not valid JSON`);
  }
  let offset = 12 + jsonLength + ((4 - (jsonLength % 4)) % 4);
  const arrays: Record<string, Float32Array> = {};
  for (const { name, length } of meta.arrays) {
    if (offset + 4 * length > bytes.length) throw new CheckpointCorruptError(`${file}: array '${name}' is cut short`);
    const copy = new Float32Array(length);
    new Uint8Array(copy.buffer).set(bytes.subarray(offset, offset + 4 * length));
    arrays[name] = copy;
    offset += 4 * length;
  }
  if (offset !== bytes.length) throw new CheckpointCorruptError(`${file}: ${bytes.length - offset} unexpected trailing bytes`);
  const { arrays: _list, ...rest } = meta;
  return { meta: rest, arrays };
}

/** The checkpoint must come from the same solver, model shape and optimizer, and a job of the same size. */
export function checkCompatible(cp: Checkpoint, file: string, expected: { solver: string; size: number; paramCount: number; optimizer: string; buffers: Record<string, Float32Array> }): void {
  const m = cp.meta;
  if (m.paramCount !== expected.paramCount || cp.arrays.params?.length !== expected.paramCount) {
    throw new CheckpointMismatchError(`${file} holds a model of ${m.paramCount} parameters, this model has ${expected.paramCount}: it was written for another model shape`);
  }
  if (m.solver !== expected.solver) throw new CheckpointMismatchError(`${file} was written by solver '${m.solver}', this run uses '${expected.solver}'`);
  if (m.size !== expected.size) throw new CheckpointMismatchError(`${file} was written by a job of ${m.size} ranks, this job has ${expected.size}`);
  if (m.optimizer !== expected.optimizer) throw new CheckpointMismatchError(`${file} holds state of optimizer '${m.optimizer}', this run uses '${expected.optimizer}'`);
  for (const [name, buffer] of Object.entries(expected.buffers)) {
    if (cp.arrays[`opt.${name}`]?.length !== buffer.length) throw new CheckpointMismatchError(`${file}: optimizer buffer '${name}' is missing or of another size`);
  }
}
