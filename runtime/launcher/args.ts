/**
 * Command-line parsing of pgas-run. Options come before PROGRAM; everything after PROGRAM belongs to the
 * program (as with mpirun), so a program's own flags never need quoting. `--` also ends the options.
 * Every value is validated here, where it enters, with a UsageError (exit status 2).
 */
import { resolve as resolvePath } from 'node:path';
import { UsageError } from './errors.js';

export type LauncherTransport = 'uws' | 'threads' | 'ucx' | 'auto';

export interface LaunchOptions {
  /** -n: number of ranks; undefined means "take it from Slurm / MPI" */
  ranks: number | undefined;
  hostfile: string | undefined;
  oversubscribe: boolean;
  transport: LauncherTransport;
  sshPort: number | undefined;
  sshOptions: string[];
  sshIdentity: string | undefined;
  /** ranks bind 0.0.0.0 instead of their host's address */
  listenAny: boolean;
  /** host:port of the rendezvous (scheduler modes, where the launcher cannot choose) */
  rendezvous: string | undefined;
  rendezvousPort: number | undefined;
  startupTimeoutMs: number | undefined;
  heartbeatMs: number | undefined;
  outputDir: string | undefined;
  tolerateFailures: boolean;
  /** time between SIGTERM and SIGKILL when the launcher stops ranks */
  killGraceMs: number;
  /** a file holding the job token (first line); otherwise $PGAS_TOKEN, otherwise a random one */
  tokenFile: string | undefined;
  /** --checkpoint-dir: ranks checkpoint there (PGAS_CHECKPOINT_DIR) and the job is recorded for --resume */
  checkpointDir: string | undefined;
  /** --resume DIR: run the job recorded in DIR again, continuing from its checkpoints */
  resumeDir: string | undefined;
  /** -x NAME or -x NAME=VALUE: extra environment for every rank (local and remote) */
  env: Array<[string, string | undefined]>;
  /** --dashboard[=PORT]: serve the live dashboard on PORT (0: a free one); undefined: no dashboard */
  dashboardPort: number | undefined;
  /** --dashboard-host: the address it binds (default loopback) */
  dashboardHost: string;
  /** --dashboard-dir: where the static report goes (default: --output-dir, else the current directory) */
  dashboardDir: string | undefined;
  program: string;
  programArgs: string[];
}

export type ParsedCommand =
  | { kind: 'help' }
  | { kind: 'info' }
  | { kind: 'launch'; options: LaunchOptions };

type Setter = (o: LaunchOptions, value: string, flag: string) => void;

function positiveInt(flag: string, raw: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^\d+$/.test(raw)) throw new UsageError(`${flag} needs a whole number, got '${raw}'`);
  const n = Number(raw);
  if (n < min || n > max) throw new UsageError(`${flag} must be between ${min} and ${max}, got ${n}`);
  return n;
}

/** Flags that take a value, by every name they answer to. */
const VALUED: Record<string, Setter | undefined> = {};
const SWITCHES: Record<string, ((o: LaunchOptions) => void) | undefined> = {};

function valued(names: string[], set: Setter): void {
  for (const n of names) VALUED[n] = set;
}
function switched(names: string[], set: (o: LaunchOptions) => void): void {
  for (const n of names) SWITCHES[n] = set;
}

valued(['-n', '-np', '--np', '--ranks'], (o, v, f) => {
  if (/^-?\d+$/.test(v) && Number(v) < 1) throw new UsageError(`${f} must be at least 1, got ${v}`);
  o.ranks = positiveInt(f, v, 1, 1 << 20);
});
valued(['--hostfile', '--machinefile', '-m'], (o, v) => { o.hostfile = v; });
valued(['--transport'], (o, v) => {
  if (v !== 'uws' && v !== 'threads' && v !== 'ucx' && v !== 'auto') {
    throw new UsageError(`--transport must be uws, threads or ucx (or auto), got '${v}'`);
  }
  o.transport = v;
});
valued(['--ssh-port'], (o, v, f) => { o.sshPort = positiveInt(f, v, 1, 65535); });
valued(['--ssh-option'], (o, v) => { o.sshOptions.push(v); });
valued(['--ssh-identity'], (o, v) => { o.sshIdentity = v; });
valued(['--rendezvous'], (o, v) => {
  if (!/^(\[[^\]]+\]|[^:\s]+):\d+$/.test(v)) throw new UsageError(`--rendezvous must be host:port, got '${v}'`);
  positiveInt('--rendezvous port', v.slice(v.lastIndexOf(':') + 1), 1, 65535);
  o.rendezvous = v;
});
valued(['--rendezvous-port'], (o, v, f) => { o.rendezvousPort = positiveInt(f, v, 1, 65535); });
valued(['--startup-timeout'], (o, v, f) => { o.startupTimeoutMs = positiveInt(f, v, 1); });
valued(['--heartbeat'], (o, v, f) => { o.heartbeatMs = positiveInt(f, v, 1); });
valued(['--output-dir'], (o, v) => { o.outputDir = v; });
valued(['--kill-grace'], (o, v, f) => { o.killGraceMs = positiveInt(f, v, 0); });
valued(['--token-file'], (o, v) => { o.tokenFile = v; });
valued(['-x', '--env'], (o, v, f) => {
  const eq = v.indexOf('=');
  const name = eq < 0 ? v : v.slice(0, eq);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new UsageError(`${f} needs NAME or NAME=VALUE, got '${v}'`);
  if (name === 'PGAS_TOKEN') throw new UsageError(`${f} PGAS_TOKEN is refused: use --token-file, the token never travels in the environment`);
  o.env.push([name, eq < 0 ? undefined : v.slice(eq + 1)]);
});
valued(['--dashboard-host'], (o, v, f) => {
  if (!/^[A-Za-z0-9.:\[\]-]+$/.test(v)) throw new UsageError(`${f} needs a host name or address, got '${v}'`);
  o.dashboardHost = v;
});
valued(['--dashboard-dir'], (o, v) => { o.dashboardDir = v; });
valued(['--checkpoint-dir'], (o, v) => { o.checkpointDir = v; });
valued(['--resume'], (o, v) => { o.resumeDir = v; });
// TLS for the uws transport (pgas/auth/tls.ts): handed to every rank as PGAS_TLS_*, as absolute paths.
for (const [flag, variable] of [['--tls-cert', 'PGAS_TLS_CERT'], ['--tls-key', 'PGAS_TLS_KEY'], ['--tls-ca', 'PGAS_TLS_CA']] as const) {
  valued([flag], (o, v) => {
    if (v === '') throw new UsageError(`${flag} needs a file name`);
    o.env.push([variable, resolvePath(v)]);
  });
}
// When uws ranks open their data links (pgas/env.ts PGAS_CONNECTIONS): on first use, or all at start.
valued(['--connections'], (o, v, f) => {
  if (v !== 'lazy' && v !== 'eager') throw new UsageError(`${f} must be lazy or eager, got '${v}'`);
  o.env.push(['PGAS_CONNECTIONS', v]);
});
switched(['--oversubscribe'], (o) => { o.oversubscribe = true; });
switched(['--listen-any'], (o) => { o.listenAny = true; });
switched(['--tolerate-failures'], (o) => { o.tolerateFailures = true; });
// Ranks print their statistics at close (pgas/stats.ts); the summary collects them (stats-collector.ts).
switched(['--stats'], (o) => { o.env.push(['PGAS_STATS', '1']); });

export function defaultOptions(): LaunchOptions {
  return {
    ranks: undefined,
    hostfile: undefined,
    oversubscribe: false,
    transport: 'uws',
    sshPort: undefined,
    sshOptions: [],
    sshIdentity: undefined,
    listenAny: false,
    rendezvous: undefined,
    rendezvousPort: undefined,
    startupTimeoutMs: undefined,
    heartbeatMs: undefined,
    outputDir: undefined,
    tolerateFailures: false,
    killGraceMs: 3000,
    tokenFile: undefined,
    checkpointDir: undefined,
    resumeDir: undefined,
    env: [],
    dashboardPort: undefined,
    dashboardHost: '127.0.0.1',
    dashboardDir: undefined,
    program: '',
    programArgs: [],
  };
}

export function parseArgs(argv: readonly string[]): ParsedCommand {
  const o = defaultOptions();
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') { i++; break; }
    if (arg === '-h' || arg === '--help') return { kind: 'help' };
    if (arg === '--info') return { kind: 'info' };
    if (!arg.startsWith('-') || arg === '-') break;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq < 0 ? arg : arg.slice(0, eq);
    if (name === '--dashboard') { // its value is optional, so it never takes the next argument
      o.dashboardPort = eq < 0 ? 0 : positiveInt(name, arg.slice(eq + 1), 0, 65535);
      continue;
    }
    const setValue = VALUED[name];
    if (setValue) {
      let value: string | undefined;
      if (eq >= 0) value = arg.slice(eq + 1);
      else value = argv[++i];
      if (value === undefined) throw new UsageError(`${name} needs a value`);
      setValue(o, value, name);
      continue;
    }
    const setSwitch = SWITCHES[name];
    if (setSwitch && eq < 0) { setSwitch(o); continue; }
    if (setSwitch) throw new UsageError(`${name} takes no value`);
    throw new UsageError(`unknown option '${arg}' (see pgas-run --help)`);
  }
  const program = argv[i];
  if (o.resumeDir !== undefined) {
    // the program, its arguments and the job's shape come from the record in DIR (runtime/launcher/resume.ts)
    if (program !== undefined) throw new UsageError(`--resume ${o.resumeDir} runs the job recorded there; give no PROGRAM (got '${program}')`);
    if (o.checkpointDir !== undefined) throw new UsageError('--resume DIR already names the checkpoint directory; drop --checkpoint-dir');
    return { kind: 'launch', options: o };
  }
  if (program === undefined || program === '') {
    throw new UsageError('missing PROGRAM: pgas-run -n N [options] PROGRAM [ARGS] (see pgas-run --help)');
  }
  o.program = program;
  o.programArgs = argv.slice(i + 1);
  if (o.ranks === undefined && o.hostfile !== undefined) {
    throw new UsageError('--hostfile needs -n N (how many ranks to place on its hosts)');
  }
  if (o.ranks !== undefined && o.rendezvous !== undefined) {
    throw new UsageError('--rendezvous is for srun/mpirun tasks; with -n, pgas-run places the rendezvous itself (see --rendezvous-port)');
  }
  if (o.dashboardPort === undefined && (o.dashboardHost !== '127.0.0.1' || o.dashboardDir !== undefined)) {
    throw new UsageError('--dashboard-host and --dashboard-dir need --dashboard');
  }
  if (o.dashboardPort !== undefined && o.ranks === undefined) {
    throw new UsageError('--dashboard needs -n N (under srun/mpirun each pgas-run is one rank and has no job to show)');
  }
  if (o.transport === 'threads' && o.hostfile !== undefined) {
    throw new UsageError('--transport threads runs every rank in one local process; it cannot use --hostfile');
  }
  return { kind: 'launch', options: o };
}

export const HELP = `Usage: pgas-run -n N [options] PROGRAM [ARGS...]
       pgas-run [options] PROGRAM [ARGS...]     (as one task of srun / mpirun)
       pgas-run --info | --help

Start a PGAS job of N ranks. PROGRAM is a .js file, a .ts file whose compiled
counterpart exists under dist/, or the name of a registered application.

Placement
  -n, -np N                 number of ranks (local processes unless --hostfile)
  --hostfile, -m FILE       hosts, one per line: "[user@]host [slots=N]", # comments
  --oversubscribe           allow more ranks than the hostfile has slots
  --transport ucx|uws|threads|auto
                            data transport (default uws); threads runs all ranks
                            as threads of one local process; ucx is the native
                            UCX transport (shared memory, TCP, InfiniBand/RoCE;
                            UCX_TLS and UCX_NET_DEVICES pass through to ranks);
                            auto picks ucx where it is usable here, uws
                            otherwise, and says at start which it chose
                            (pgas-run --info says whether ucx is usable)

Remote start (hostfile hosts are reached with the system OpenSSH client)
  --ssh-port PORT           port of the remote sshd
  --ssh-option OPT          passed as "ssh -o OPT" (repeatable)
  --ssh-identity FILE       passed as "ssh -i FILE"
  --listen-any              ranks bind 0.0.0.0 (they still advertise their host)
  --tls-cert FILE, --tls-key FILE, --tls-ca FILE
                            uws data connections over TLS (PEM files; the CA is
                            what ranks trust when they dial each other)

Rendezvous and start-up
  --rendezvous HOST:PORT    where rank 0 hosts the rendezvous (srun/mpirun tasks)
  --rendezvous-port PORT    fixed rendezvous port (default: a free one)
  --startup-timeout MS      how long the rendezvous waits for every rank
  --heartbeat MS            liveness heartbeat period
  --connections lazy|eager  uws data links open on first use of a rank (lazy,
                            the default) or all at start (eager)
  --token-file FILE         job token from FILE (default: $PGAS_TOKEN or random)
  -x, --env NAME[=VALUE]    pass an environment variable to every rank

Output and job control
  --output-dir DIR          write rank-N.out / rank-N.err instead of prefixing
  --tolerate-failures       a failing rank does not stop the job
  --checkpoint-dir DIR      ranks checkpoint into DIR (rank-N.ckpt; solvers of
                            runtime/asgd) and the job is recorded in DIR/job.json
  --resume DIR              run the job recorded in DIR again, every rank
                            continuing from its last checkpoint there
  --stats                   end the summary with every rank's traffic and wait counters
  --kill-grace MS           SIGTERM-to-SIGKILL grace when stopping ranks (3000)

Dashboard
  --dashboard[=PORT]        serve a live web page of the job (prints its URL, which
                            carries a random key; default port: a free one)
  --dashboard-host HOST     address it binds (default 127.0.0.1)
  --dashboard-dir DIR       where the static report dashboard.html goes after the
                            job (default: --output-dir, else the current directory)

Exit status: 0 when every rank exits 0 (with --tolerate-failures: when at least
one rank exits 0; failed ranks are listed as dead in the summary); otherwise the
first failing rank's status (128+signal if it was killed); 2 for usage errors
and unusable hosts; 130/143 when pgas-run itself is interrupted.

Under srun or mpirun (no -n), each pgas-run is one rank; see the README.
`;
