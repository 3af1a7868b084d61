/**
 * The remote side of an ssh-started rank: `node remote-shim.js --grace MS -- PROGRAM ARGS` (run by
 * ssh in the job's working directory with the rank's PGAS_* variables on the command line).
 *
 * Why it exists:
 *  - The token arrives as the first line of our stdin (from the launcher, through ssh), so that it
 *    never appears on a command line; we hand it to the program's stdin the same way.
 *  - Without a terminal, sshd does not signal the remote command when the ssh client goes away; it
 *    only closes the command's pipes. So we keep reading stdin and, at EOF (launcher stopped the rank,
 *    ssh was killed, the network dropped), stop the program: SIGTERM, then SIGKILL after a grace
 *    period. That is what leaves no orphan rank behind on remote hosts.
 *  - ssh reports a remote signal death only as exit 255, the same as its own failures; so we end with
 *    one marker line on stderr that tells the launcher the program's real exit code or signal.
 *
 * `--probe [--free-port] PROGRAM` checks a host before the job starts: node runs here, the working
 * directory and the program exist, and (for rank 0's host) which TCP port is free for the rendezvous.
 *
 * It needs only node: modules, shim-protocol.js and free-port.js, so it runs wherever the package's dist/ is visible.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { SHIM_EXIT_MARKER } from './shim-protocol.js';
import { freePort } from './free-port.js';

async function probe(args: string[]): Promise<number> {
  const wantPort = args.includes('--free-port');
  const program = args.filter((a) => a !== '--free-port')[0];
  try {
    if (program === undefined) throw new Error('no program given to probe');
    accessSync(program, constants.R_OK);
    // 0.0.0.0: a port free on every address is free on the one rank 0 will bind
    const port = wantPort ? await freePort('0.0.0.0') : undefined;
    process.stdout.write(`${JSON.stringify({ ok: true, node: process.version, port })}\n`);
    return 0;
  } catch (err) {
    process.stdout.write(`${JSON.stringify({ ok: false, error: (err as Error).message })}\n`);
    return 1;
  }
}

/** Read stdin's first line (the token); call onEnd when stdin closes, whenever that is. */
function watchStdin(onToken: (token: string) => void, onEnd: () => void): void {
  let buffered = '';
  let gotToken = false;
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk: string) => {
    if (gotToken) return; // anything after the token is ignored; we only wait for EOF
    buffered += chunk;
    const nl = buffered.indexOf('\n');
    if (nl >= 0) {
      gotToken = true;
      onToken(buffered.slice(0, nl).replace(/\r$/, ''));
      buffered = '';
    }
  });
  const end = (): void => {
    if (!gotToken) {
      process.stderr.write('pgas remote shim: stdin closed before the job token arrived\n');
      process.exit(1);
    }
    onEnd();
  };
  process.stdin.once('end', end);
  process.stdin.once('error', end);
}

function run(args: string[]): void {
  let graceMs = 3000;
  if (args[0] === '--grace') {
    graceMs = Number(args[1]);
    args = args.slice(2);
  }
  if (args[0] === '--') args = args.slice(1);
  const [program, ...programArgs] = args;
  if (program === undefined) {
    process.stderr.write('pgas remote shim: no program given\n');
    process.exit(1);
  }
  let child: ReturnType<typeof spawn> | undefined;
  let exited = false;
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    if (!child) process.exit(1);
    if (exited || child.pid === undefined) return;
    const pid = child.pid;
    const signal = (s: NodeJS.Signals): void => { try { process.kill(-pid, s); } catch { /* gone */ } };
    signal('SIGTERM');
    setTimeout(() => { if (!exited) signal('SIGKILL'); }, graceMs).unref();
  };
  for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(s, stop);
  // If the launcher side is gone, writes to our stdout/stderr fail with EPIPE; that is not fatal here,
  // stdin's EOF already stops the program.
  process.stdout.on('error', () => {});
  process.stderr.on('error', () => {});

  watchStdin((token) => {
    if (stopping) return;
    child = spawn(process.execPath, [program, ...programArgs], {
      stdio: ['pipe', 'inherit', 'pipe'],
      detached: true, // own process group: stop() signals everything the program started
      // the rank watches its parent (pgas/launcher-watch.ts): here that is this shim, not pgas-run
      env: { ...process.env, PGAS_LAUNCHER_PID: String(process.pid) },
    });
    child.stdin!.on('error', () => {});
    child.stdin!.end(`${token}\n`);
    // stderr passes through us so that the exit marker starts on a line of its own
    let endsWithNewline = true;
    child.stderr!.on('data', (chunk: Buffer) => {
      if (chunk.length) endsWithNewline = chunk[chunk.length - 1] === 0x0a;
      process.stderr.write(chunk);
    });
    const stderrDone = new Promise<void>((r) => child!.stderr!.once('close', () => r()));
    child.once('error', (err) => {
      exited = true;
      process.stderr.write(`${SHIM_EXIT_MARKER}${JSON.stringify({ code: null, signal: null, error: `could not start ${program}: ${err.message}` })}\n`);
      process.exit(1);
    });
    child.once('exit', (code, sig) => {
      exited = true;
      // whatever the program left running in its process group goes with it (and stops holding stderr)
      try { process.kill(-child!.pid!, 'SIGKILL'); } catch { /* nothing left */ }
      void stderrDone.then(() => {
        const status = JSON.stringify({ code, signal: sig });
        process.stderr.write(`${endsWithNewline ? '' : '\n'}${SHIM_EXIT_MARKER}${status}\n`, () => {
          const signo = sig ? osConstants.signals[sig] : 0;
          process.exit(code ?? 128 + signo);
        });
      });
    });
  }, stop);
}

const argv = process.argv.slice(2);
if (argv[0] === '--probe') {
  void probe(argv.slice(1)).then((code) => { process.exitCode = code; });
} else {
  run(argv);
}
