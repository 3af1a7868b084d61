/**
 * Hostfile parsing. The format is the common denominator of gaspi_run machinefiles and Open MPI
 * hostfiles: one host per line, optionally `slots=N`, `#` starts a comment, blank lines are ignored.
 * A host may be written `user@host` (handed to ssh as is). A host that appears on several lines gets
 * several entries, filled in file order, so that a gaspi_run-style file (one line per rank) places
 * ranks exactly as written.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from './errors.js';

export interface HostEntry {
  /** what ssh is given: `host` or `user@host` */
  target: string;
  /** the address ranks on this host bind and advertise (target without `user@`) */
  address: string;
  slots: number;
  /** 1-based line in the hostfile, for messages */
  line: number;
}

export function parseHostfile(text: string, fileName: string): HostEntry[] {
  const entries: HostEntry[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const content = lines[i]!.replace(/#.*$/, '').trim();
    if (content === '') continue;
    const where = `${fileName}:${i + 1}`;
    const [target, ...rest] = content.split(/\s+/);
    let slots = 1;
    for (const field of rest) {
      const m = /^slots=(\d+)$/.exec(field);
      if (!m) throw new UsageError(`${where}: unknown field '${field}' (only slots=N is understood)`);
      slots = Number(m[1]);
      if (slots < 1) throw new UsageError(`${where}: slots must be at least 1, got ${m[1]}`);
    }
    const at = target!.lastIndexOf('@');
    const address = stripBrackets(at < 0 ? target! : target!.slice(at + 1));
    if (address === '' || /[\s'"`$;&|<>\\]/.test(target!)) {
      throw new UsageError(`${where}: '${target}' is not a host name or address`);
    }
    // ssh takes IPv6 literals without brackets
    const sshTarget = at < 0 ? address : `${target!.slice(0, at)}@${address}`;
    entries.push({ target: sshTarget, address, slots, line: i + 1 });
  }
  if (entries.length === 0) throw new UsageError(`hostfile ${fileName} names no hosts`);
  return entries;
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

export function readHostfile(path: string): HostEntry[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read hostfile ${path}: ${(err as Error).message}`);
  }
  return parseHostfile(text, path);
}
