/**
 * A rank that pgas-run started on this machine stops when pgas-run itself is gone (SIGKILLed, OOM-killed,
 * its terminal closed): otherwise a rank waiting in a barrier or a wait would hang on, orphaned, holding
 * its port and memory until someone finds it with `ps`. pgas-run names itself in PGAS_LAUNCHER_PID; a
 * rank whose parent is no longer that process has been re-parented, i.e. the launcher died. Ranks stop
 * the way pgas-run would have stopped them: SIGTERM to the rank's process group (pgas-run gives every
 * rank its own), then SIGKILL after a grace period.
 */
const POLL_MS = 250;
const GRACE_MS = 3000;

let watching = false;

/** Start watching (once per process; a no-op without PGAS_LAUNCHER_PID or when it is not our parent). */
export function watchLauncher(log: (line: string) => void, env: NodeJS.ProcessEnv = process.env): void {
  if (watching) return;
  const raw = env.PGAS_LAUNCHER_PID;
  if (!raw || !/^\d+$/.test(raw)) return;
  const launcher = Number(raw);
  // Started by hand with a copied environment, or through another program: nothing to watch.
  if (process.ppid !== launcher) return;
  watching = true;
  const timer = setInterval(() => {
    if (process.ppid === launcher) return;
    clearInterval(timer);
    // our stdout/stderr led to pgas-run: a write there may now fail with EPIPE, which must not be what
    // ends the rank before it has stopped what it started
    process.stdout.on('error', () => {});
    process.stderr.on('error', () => {});
    log(`pgas: pgas-run (pid ${launcher}) is gone; this rank stops (SIGTERM, SIGKILL after ${GRACE_MS} ms)`);
    setTimeout(() => signalOurGroup('SIGKILL'), GRACE_MS).unref();
    signalOurGroup('SIGTERM');
  }, POLL_MS);
  timer.unref(); // never what keeps a finished rank alive
}

function signalOurGroup(signal: NodeJS.Signals): void {
  try {
    // Our group exists under our pid only if we lead it (pgas-run starts ranks detached): then anything
    // the rank started stops with it, as when pgas-run stops a job.
    process.kill(-process.pid, signal);
  } catch {
    process.kill(process.pid, signal);
  }
}
