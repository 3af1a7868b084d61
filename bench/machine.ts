/**
 * What every benchmark record carries about where and how it was measured: the machine (cores, CPU
 * model, memory, OS), the versions (Node, V8, UCX and OpenBLAS where installed, the git commit), the
 * transport, and the exact command line, so that a figure in a report can be traced and re-run.
 */
import { execFileSync } from 'node:child_process';
import { arch, cpus, loadavg, platform, release, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';

export interface MachineInfo {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  os: string;
  node: string;
  v8: string;
  /** UCX library version (ucx_info -v or pkg-config), null when UCX is not installed */
  ucx: string | null;
  /** OpenBLAS version (pkg-config), null when not installed */
  openblas: string | null;
  /** git commit of the working tree the benchmark ran from, null outside a git checkout */
  commit: string | null;
}

export interface RunRecord {
  machine: MachineInfo;
  /** the transport(s) the figures were measured over */
  transport: string;
  /** the exact argv of the benchmark process */
  argv: string[];
  /** the one command that reproduces the figures from a checkout */
  command: string;
  date: string;
  /** the 1, 5 and 15 minute load averages when the record was made (the end of the run): how busy the shared machine was */
  loadAverage: number[];
  /** the same at the start of the run, when the caller took them (loadAverageNow()) */
  loadAverageAtStart?: number[];
}

const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** stdout of a short command, or null when it is missing or fails (never throws). */
function probe(file: string, args: string[]): string | null {
  try {
    return execFileSync(file, args, { encoding: 'utf8', timeout: 3000, stdio: ['ignore', 'pipe', 'ignore'], cwd: REPO }).trim() || null;
  } catch {
    return null;
  }
}

let cached: MachineInfo | undefined;

export function describeMachine(): MachineInfo {
  if (cached) return cached;
  const cpu = cpus();
  const ucxInfo = probe('ucx_info', ['-v']);
  const ucx = /Version\s+([\d.]+)/.exec(ucxInfo ?? '')?.[1] ?? probe('pkg-config', ['--modversion', 'ucx']);
  cached = {
    cores: cpu.length,
    cpuModel: cpu[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${platform()} ${release()} ${arch()}`,
    node: process.version,
    v8: process.versions.v8,
    ucx,
    openblas: probe('pkg-config', ['--modversion', 'openblas']),
    commit: probe('git', ['rev-parse', '--short', 'HEAD']),
  };
  return cached;
}

/** `npm run bench -- <args>` for the arguments this process was given after the script. */
export function reproduceCommand(argv: readonly string[] = process.argv.slice(2)): string {
  const quote = (a: string): string => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  return `npm run bench -- ${argv.map(quote).join(' ')}`.trim();
}

/** the 1, 5 and 15 minute load averages, rounded to hundredths */
export function loadAverageNow(): number[] {
  return loadavg().map((v) => Math.round(v * 100) / 100);
}

export function runRecord(transport: string, argv: readonly string[] = process.argv, loadAverageAtStart?: number[]): RunRecord {
  return {
    machine: describeMachine(), transport, argv: [...argv], command: reproduceCommand(argv.slice(2)), date: new Date().toISOString(),
    loadAverage: loadAverageNow(), ...(loadAverageAtStart ? { loadAverageAtStart } : {}),
  };
}

/** One line for plot subtitles and report headings. */
export function machineLine(m: MachineInfo): string {
  return `${m.cores} cores, ${m.cpuModel}, Node ${m.node}${m.ucx ? `, UCX ${m.ucx}` : ''}${m.openblas ? `, OpenBLAS ${m.openblas}` : ''}`;
}
