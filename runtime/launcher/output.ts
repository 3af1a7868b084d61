/**
 * Forwarding of rank output. Lines are split on bytes (not decoded text), so a multi-byte character cut
 * between two chunks is never mangled, and each prefixed line is one write, so lines of different ranks
 * interleave but never mix. A last line without a newline is flushed with one when the rank's stream
 * ends. With --output-dir the bytes go unchanged to rank-N.out / rank-N.err.
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { collectStatsLine } from './stats-collector.js';

/** A line longer than this is written in pieces rather than held in memory indefinitely. */
const MAX_PENDING = 1 << 16;

/** Forward `source` to `dest`, each line prefixed; resolves when the source has ended. */
export function forwardPrefixed(source: Readable, prefix: string, dest: Writable): Promise<void> {
  const head = Buffer.from(prefix);
  let pending: Buffer = Buffer.alloc(0);
  const emit = (line: Buffer): void => {
    if (collectStatsLine(line)) return;
    dest.write(Buffer.concat([head, line, line[line.length - 1] === 0x0a ? Buffer.alloc(0) : Buffer.from('\n')]));
  };
  return new Promise((resolve) => {
    source.on('data', (chunk: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      let start = 0;
      for (let nl = pending.indexOf(0x0a, start); nl >= 0; nl = pending.indexOf(0x0a, start)) {
        emit(pending.subarray(start, nl + 1));
        start = nl + 1;
      }
      pending = pending.subarray(start);
      if (pending.length > MAX_PENDING) {
        emit(pending);
        pending = Buffer.alloc(0);
      }
    });
    const done = (): void => {
      if (pending.length) emit(pending);
      pending = Buffer.alloc(0);
      resolve();
    };
    source.once('end', done);
    source.once('error', done);
  });
}

/** Copy `source` into a file unchanged; resolves when everything is on disk. */
export function forwardToFile(source: Readable, path: string): Promise<void> {
  const file = createWriteStream(path);
  return new Promise((resolve) => {
    file.once('finish', resolve);
    file.once('error', (err) => {
      process.stderr.write(`pgas-run: cannot write ${path}: ${err.message}\n`);
      source.resume();
      resolve();
    });
    source.pipe(file);
  });
}

export interface OutputSink {
  /** start forwarding a rank's streams; the promise resolves when both have ended */
  attach(label: string, stdout: Readable, stderr: Readable): Promise<void>;
}

export function terminalSink(out: Writable = process.stdout, err: Writable = process.stderr): OutputSink {
  return {
    attach: (label, stdout, stderr) =>
      Promise.all([forwardPrefixed(stdout, `[${label}] `, out), forwardPrefixed(stderr, `[${label}] `, err)]).then(() => {}),
  };
}

export function directorySink(dir: string): OutputSink {
  mkdirSync(dir, { recursive: true });
  return {
    attach: (label, stdout, stderr) =>
      Promise.all([
        forwardToFile(stdout, join(dir, `rank-${label}.out`)),
        forwardToFile(stderr, join(dir, `rank-${label}.err`)),
      ]).then(() => {}),
  };
}
