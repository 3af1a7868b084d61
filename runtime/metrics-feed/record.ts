/**
 * The metric record a rank sends to the launcher's dashboard: one small JSON object per message over a
 * WebSocket. Both sides share this definition; the launcher validates every record it receives with
 * parseMetricsRecord, so a buggy or hostile sender can cost a closed connection, never a crash.
 */

/** The largest record accepted, in bytes (a record is a few hundred bytes; 64 dead peers add ~300). */
export const MAX_RECORD_BYTES = 16 * 1024;

export interface MetricsRecord {
  rank: number;
  /** the rank's process id on its host (the dashboard shows it: it is what `kill` needs) */
  pid: number;
  host: string;
  /** milliseconds since this rank's feed started, on the rank's own monotonic clock */
  time: number;
  /** cumulative samples and steps of this rank */
  samples?: number;
  steps?: number;
  /** mean training loss of the recent steps (null: not known) */
  loss?: number | null;
  /** an application's error measure (K-Means: centre error, or inertia per point) */
  error?: number | null;
  /** fraction of the rank's stop budget used, 0..1 */
  progress?: number;
  /** ASGD's state exchange: states sent, received, and accepted by the Parzen window (cumulative) */
  sent?: number;
  received?: number;
  accepted?: number;
  transport?: string;
  solver?: string;
  /** ranks this rank's health vector shows dead (the PGAS heartbeat / connection view) */
  deadPeers?: number[];
  /** the rank's last record: it finished its work */
  final?: boolean;
}

export class MetricsRecordError extends Error {
  readonly code = 'ERR_METRICS_RECORD';
  constructor(message: string) {
    super(message);
    this.name = 'MetricsRecordError';
  }
}

const COUNTERS = ['samples', 'steps', 'sent', 'received', 'accepted'] as const;
const MEASURES = ['loss', 'error'] as const;
const LABELS = ['transport', 'solver'] as const;
const MAX_LABEL = 64;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function wholeNumber(v: unknown, name: string, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
    throw new MetricsRecordError(`${name} must be a whole number 0..${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

function label(v: unknown, name: string): string {
  if (typeof v !== 'string' || v.length > MAX_LABEL) throw new MetricsRecordError(`${name} must be a string of at most ${MAX_LABEL} characters`);
  return v;
}

/**
 * Parse and validate one record from a job of `size` ranks. Unknown fields are dropped (a newer rank
 * may send more); known fields of the wrong type are an error.
 */
export function parseMetricsRecord(text: string, size: number): MetricsRecord {
  if (text.length > MAX_RECORD_BYTES) throw new MetricsRecordError(`record of ${text.length} bytes is over the ${MAX_RECORD_BYTES}-byte limit`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new MetricsRecordError('record is not JSON');
  }
  if (!isObject(raw)) throw new MetricsRecordError('record must be a JSON object');
  const time = raw.time;
  if (typeof time !== 'number' || !Number.isFinite(time) || time < 0) throw new MetricsRecordError('time must be a finite number of milliseconds ≥ 0');
  const record: MetricsRecord = {
    rank: wholeNumber(raw.rank, 'rank', size - 1),
    pid: wholeNumber(raw.pid, 'pid', 2 ** 31),
    host: label(raw.host, 'host'),
    time,
  };
  for (const name of COUNTERS) {
    if (raw[name] !== undefined) record[name] = wholeNumber(raw[name], name);
  }
  for (const name of MEASURES) {
    const v = raw[name];
    if (v === undefined) continue;
    if (v !== null && (typeof v !== 'number' || !Number.isFinite(v))) throw new MetricsRecordError(`${name} must be a finite number or null`);
    record[name] = v;
  }
  for (const name of LABELS) {
    if (raw[name] !== undefined) record[name] = label(raw[name], name);
  }
  if (raw.progress !== undefined) {
    const p = raw.progress;
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new MetricsRecordError('progress must be a number in 0..1');
    record.progress = p;
  }
  if (raw.deadPeers !== undefined) {
    const list = raw.deadPeers;
    if (!Array.isArray(list) || list.length > size) throw new MetricsRecordError(`deadPeers must be a list of at most ${size} ranks`);
    record.deadPeers = list.map((r, i) => wholeNumber(r, `deadPeers[${i}]`, size - 1));
  }
  if (raw.final !== undefined) {
    if (typeof raw.final !== 'boolean') throw new MetricsRecordError('final must be true or false');
    record.final = raw.final;
  }
  return record;
}
