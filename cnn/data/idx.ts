import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { DataFileError } from '../errors.js';

/**
 * The IDX format of MNIST and Fashion-MNIST: two zero bytes, a type byte, the number of dimensions,
 * the dimensions as big-endian 32-bit integers, then the values (big-endian for multi-byte types).
 * A file ending in .gz is gunzipped in memory. Anything short, long or malformed is an error naming
 * the file.
 */
export type IdxValues = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface IdxArray {
  file: string;
  dims: number[];
  values: IdxValues;
}

const TYPES: Record<number, { name: string; size: number }> = {
  0x08: { name: 'unsigned byte', size: 1 },
  0x09: { name: 'signed byte', size: 1 },
  0x0b: { name: 'int16', size: 2 },
  0x0c: { name: 'int32', size: 4 },
  0x0d: { name: 'float32', size: 4 },
  0x0e: { name: 'float64', size: 8 },
};

export function readIdxFile(file: string): IdxArray {
  let raw: Buffer;
  try {
    raw = readFileSync(file);
  } catch (error) {
    throw new DataFileError(file, `cannot read the IDX file: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if (file.endsWith('.gz') || (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b)) {
    try {
      raw = gunzipSync(raw);
    } catch (error) {
      throw new DataFileError(file, `corrupt or truncated gzip data (${(error as Error).message})`);
    }
  }
  return parseIdx(raw, file);
}

export function parseIdx(buf: Uint8Array, file: string): IdxArray {
  if (buf.length < 4) throw new DataFileError(file, `truncated: ${buf.length} bytes is too short for an IDX header`);
  if (buf[0] !== 0 || buf[1] !== 0) throw new DataFileError(file, 'not an IDX file (the first two bytes must be zero)');
  const type = TYPES[buf[2]!];
  if (!type) throw new DataFileError(file, `not an IDX file: unknown value type 0x${buf[2]!.toString(16)}`);
  const ndim = buf[3]!;
  if (ndim < 1) throw new DataFileError(file, 'an IDX file needs at least one dimension');
  const header = 4 + 4 * ndim;
  if (buf.length < header) throw new DataFileError(file, `truncated: the header of ${ndim} dimensions needs ${header} bytes, the file has ${buf.length}`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dims: number[] = [];
  let count = 1;
  for (let i = 0; i < ndim; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    dims.push(d);
    count *= d;
  }
  const need = header + count * type.size;
  if (buf.length < need) {
    throw new DataFileError(file, `truncated: dimensions [${dims.join(', ')}] of ${type.name} need ${need} bytes, the file has ${buf.length}`);
  }
  if (buf.length > need) throw new DataFileError(file, `corrupt: ${buf.length - need} bytes after the data that dimensions [${dims.join(', ')}] describe`);
  let values: IdxValues;
  switch (buf[2]) {
    case 0x08:
      values = Uint8Array.from(buf.subarray(header, need));
      break;
    case 0x09:
      values = new Int8Array(Uint8Array.from(buf.subarray(header, need)).buffer);
      break;
    default: {
      const Ctor = { 0x0b: Int16Array, 0x0c: Int32Array, 0x0d: Float32Array, 0x0e: Float64Array }[buf[2] as 0x0b | 0x0c | 0x0d | 0x0e];
      values = new Ctor(count);
      for (let i = 0; i < count; i++) {
        const at = header + i * type.size;
        values[i] = buf[2] === 0x0b ? view.getInt16(at, false) : buf[2] === 0x0c ? view.getInt32(at, false) : buf[2] === 0x0d ? view.getFloat32(at, false) : view.getFloat64(at, false);
      }
    }
  }
  return { file, dims, values };
}

/** Encode an array as IDX (big-endian), the inverse of parseIdx; `type` 0x08 (ubyte) or 0x0d (float32). */
export function encodeIdx(dims: readonly number[], values: ArrayLike<number>, type: 0x08 | 0x0d = 0x08): Buffer {
  const count = dims.reduce((a, b) => a * b, 1);
  if (count !== values.length) throw new RangeError(`dimensions [${dims.join(', ')}] hold ${count} values, got ${values.length}`);
  const size = type === 0x08 ? 1 : 4;
  const out = Buffer.alloc(4 + 4 * dims.length + count * size);
  out[2] = type;
  out[3] = dims.length;
  dims.forEach((d, i) => out.writeUInt32BE(d, 4 + 4 * i));
  const header = 4 + 4 * dims.length;
  for (let i = 0; i < count; i++) {
    if (type === 0x08) out[header + i] = values[i]!;
    else out.writeFloatBE(values[i]!, header + 4 * i);
  }
  return out;
}
