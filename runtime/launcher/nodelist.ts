/**
 * Slurm's compressed host lists: `node[01-03,07],login1,rack[1-2]-n[1-2]`. Slurm keeps the zero padding
 * of a range's first number (node[08-10] is node08 node09 node10).
 */
import { UsageError } from './errors.js';

/** Split at commas that are not inside brackets. */
function topLevelParts(list: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < list.length; i++) {
    const c = list[i];
    if (c === '[') depth++;
    else if (c === ']') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(list.slice(start, i));
      start = i + 1;
    }
    if (depth < 0 || depth > 1) throw new UsageError(`malformed Slurm node list '${list}'`);
  }
  if (depth !== 0) throw new UsageError(`malformed Slurm node list '${list}' (unbalanced brackets)`);
  parts.push(list.slice(start));
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

function expandRange(range: string, list: string): string[] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(range.trim());
  if (!m) throw new UsageError(`malformed range '${range}' in Slurm node list '${list}'`);
  const lo = m[1]!;
  const hi = m[2] ?? lo;
  if (Number(hi) < Number(lo)) throw new UsageError(`descending range '${range}' in Slurm node list '${list}'`);
  if (Number(hi) - Number(lo) > 1_000_000) throw new UsageError(`range '${range}' is too large`);
  const width = lo.length;
  const out: string[] = [];
  for (let n = Number(lo); n <= Number(hi); n++) out.push(String(n).padStart(width, '0'));
  return out;
}

function expandOne(host: string, list: string): string[] {
  const open = host.indexOf('[');
  if (open < 0) return [host];
  const close = host.indexOf(']', open);
  const prefix = host.slice(0, open);
  const rest = expandOne(host.slice(close + 1), list);
  const out: string[] = [];
  for (const range of host.slice(open + 1, close).split(',')) {
    for (const n of expandRange(range, list)) for (const r of rest) out.push(prefix + n + r);
  }
  return out;
}

export function expandNodelist(list: string): string[] {
  const hosts = topLevelParts(list).flatMap((p) => expandOne(p, list));
  if (hosts.length === 0) throw new UsageError(`empty Slurm node list '${list}'`);
  return hosts;
}
