import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { SnapshotError } from '../errors.js';
import type { Net } from '../net.js';

/**
 * Snapshot files: a 4-byte magic ("CNNW" weights, "CNNS" solver state), a format version, the length
 * of a JSON header, the header, zero padding to a multiple of 4 bytes, then little-endian float32 data.
 * Weights list every parameter blob (layer, index, shape) so that they load by layer name, as Caffe's
 * CopyTrainedLayersFrom does. Files are written under a temporary name, flushed, and renamed: a crash
 * or a full disk never leaves a partial snapshot under the real name.
 */
const VERSION = 1;

export interface WeightsHeader {
  kind: 'weights';
  net: string;
  params: { layer: string; index: number; shape: number[]; offset: number }[];
  count: number;
}

export interface SolverStateHeader {
  kind: 'solverstate';
  type: string;
  iter: number;
  paramCount: number;
  histories: number;
  /** the weights file written with this state (its base name, in the same directory) */
  weights: string;
  /** data-layer positions and random streams, so that a resumed run continues the same sequence */
  extra: Record<string, unknown>;
}

export function atomicWrite(file: string, chunks: readonly Uint8Array[]): void {
  const tmp = `${file}.tmp-${process.pid}`;
  let fd = -1;
  try {
    fd = openSync(tmp, 'w');
    for (const c of chunks) {
      let off = 0;
      while (off < c.length) off += writeSync(fd, c, off, c.length - off);
    }
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(tmp, file);
  } catch (error) {
    if (fd >= 0) closeSync(fd);
    rmSync(tmp, { force: true });
    throw new SnapshotError(file, `cannot write the snapshot: ${(error as Error).message}`);
  }
}

function encode(magic: string, header: object, data: readonly Float32Array[]): Uint8Array[] {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const pad = (4 - ((12 + json.length) % 4)) % 4;
  const head = Buffer.alloc(12 + json.length + pad);
  head.write(magic, 0, 'latin1');
  head.writeUInt32LE(VERSION, 4);
  head.writeUInt32LE(json.length, 8);
  json.copy(head, 12);
  const out: Uint8Array[] = [head];
  for (const d of data) out.push(littleEndianBytes(d));
  return out;
}

function littleEndianBytes(a: Float32Array): Uint8Array {
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  if (new Uint8Array(new Float32Array([1]).buffer)[3] === 0x3f) return bytes; // little-endian host
  const out = Buffer.alloc(a.byteLength);
  for (let i = 0; i < a.length; i++) out.writeFloatLE(a[i]!, 4 * i);
  return out;
}

function decode(file: string, magic: string): { header: Record<string, unknown>; data: Float32Array } {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (error) {
    throw new SnapshotError(file, `cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if (buf.length < 12 || buf.toString('latin1', 0, 4) !== magic) {
    throw new SnapshotError(file, `not a ${magic === 'CNNW' ? 'weights' : 'solver state'} file of this CNN (bad magic)`);
  }
  if (buf.readUInt32LE(4) !== VERSION) throw new SnapshotError(file, `format version ${buf.readUInt32LE(4)} is not supported (expected ${VERSION})`);
  const len = buf.readUInt32LE(8);
  if (12 + len > buf.length) throw new SnapshotError(file, 'truncated header');
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(buf.toString('utf8', 12, 12 + len)) as Record<string, unknown>;
  } catch {
    throw new SnapshotError(file, 'corrupt header');
  }
  const start = 12 + len + ((4 - ((12 + len) % 4)) % 4);
  const bytes = buf.length - start;
  if (bytes < 0 || bytes % 4 !== 0) throw new SnapshotError(file, 'truncated data');
  const data = new Float32Array(bytes / 4);
  for (let i = 0; i < data.length; i++) data[i] = buf.readFloatLE(start + 4 * i);
  return { header, data };
}

export function weightsHeader(net: Net): WeightsHeader {
  return {
    kind: 'weights',
    net: net.name,
    params: net.paramEntries.map((e) => ({ layer: e.layer, index: e.index, shape: e.blob.shape.slice(), offset: e.offset })),
    count: net.paramCount,
  };
}

export function writeWeights(file: string, net: Net): void {
  atomicWrite(file, encode('CNNW', weightsHeader(net), [net.params]));
}

/**
 * Copy weights into `net` by layer name and blob index (Caffe's CopyTrainedLayersFrom): layers the
 * file does not have keep their values; a blob whose shape differs is an error. Returns the layers copied.
 */
export function loadWeights(file: string, net: Net): string[] {
  const { header, data } = decode(file, 'CNNW');
  const h = header as unknown as WeightsHeader;
  if (h.kind !== 'weights' || !Array.isArray(h.params) || data.length !== h.count) {
    throw new SnapshotError(file, `corrupt: the header describes ${String(h.count)} values, the file holds ${data.length}`);
  }
  const copied = new Set<string>();
  for (const e of net.paramEntries) {
    const src = h.params.find((p) => p.layer === e.layer && p.index === e.index);
    if (!src) continue;
    const count = src.shape.reduce((a, b) => a * b, 1);
    if (count !== e.count || src.shape.length !== e.blob.shape.length || src.shape.some((d, i) => d !== e.blob.shape[i])) {
      throw new SnapshotError(file, `layer '${e.layer}' parameter ${e.index} is [${src.shape.join(', ')}] in the file but ${e.blob.shapeString()} in the net`);
    }
    if (src.offset + count > data.length) throw new SnapshotError(file, `corrupt: layer '${e.layer}' lies outside the data`);
    e.blob.data.set(data.subarray(src.offset, src.offset + count));
    copied.add(e.layer);
  }
  return [...copied];
}

export function writeSolverState(file: string, header: SolverStateHeader, histories: readonly Float32Array[]): void {
  atomicWrite(file, encode('CNNS', header, histories));
}

export function readSolverState(file: string): { header: SolverStateHeader; histories: Float32Array[] } {
  const { header, data } = decode(file, 'CNNS');
  const h = header as unknown as SolverStateHeader;
  if (h.kind !== 'solverstate' || typeof h.iter !== 'number' || data.length !== h.paramCount * h.histories) {
    throw new SnapshotError(file, `corrupt: expected ${String(h.histories)} histories of ${String(h.paramCount)} values, the file holds ${data.length} values`);
  }
  const histories: Float32Array[] = [];
  for (let i = 0; i < h.histories; i++) histories.push(data.slice(i * h.paramCount, (i + 1) * h.paramCount));
  return { header: h, histories };
}
