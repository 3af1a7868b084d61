/**
 * Two network namespaces joined by a veth pair, so that launcher tests can run ranks on "hosts" with
 * really different addresses. The veth is created inside the first namespace with its peer inside the
 * second, so no interface or address ever appears in the machine's own namespace, and traffic stays
 * between the two. destroy() kills whatever still runs in them and deletes both.
 */
import { execFileSync } from 'node:child_process';

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Why namespaces cannot be made here, or undefined when they can (tries one for real). */
export function netnsUnavailableReason(): string | undefined {
  const probe = `pgasprobe${process.pid}`;
  try {
    ip('netns', 'add', probe);
  } catch (err) {
    return `cannot create a network namespace (ip netns add): ${(err as Error & { stderr?: string }).stderr?.trim() || (err as Error).message}`;
  }
  try {
    ip('-n', probe, 'link', 'add', 'pv0', 'type', 'veth', 'peer', 'name', 'pv1');
  } catch (err) {
    return `cannot create a veth pair inside a namespace: ${(err as Error & { stderr?: string }).stderr?.trim() || (err as Error).message}`;
  } finally {
    try { ip('netns', 'del', probe); } catch { /* already gone */ }
  }
  return undefined;
}

export interface NetnsHost {
  name: string;
  address: string;
}

export interface NetnsPair {
  a: NetnsHost;
  b: NetnsHost;
  destroy(): void;
}

function killAllIn(ns: string): void {
  let pids: string[] = [];
  try {
    pids = ip('netns', 'pids', ns).split('\n').filter((p) => /^\d+$/.test(p));
  } catch {
    return;
  }
  for (const pid of pids) {
    try { process.kill(Number(pid), 'SIGKILL'); } catch { /* already gone */ }
  }
}

/** Waits (up to 10 s) until the device has carrier and is operationally up inside its namespace. */
function waitOperational(ns: string, dev: string): void {
  const end = Date.now() + 10_000;
  for (;;) {
    const state = ip('-n', ns, '-o', 'link', 'show', 'dev', dev);
    if (/\bLOWER_UP\b/.test(state) && /\bstate UP\b/.test(state)) return;
    if (Date.now() > end) throw new Error(`${dev} in ${ns} did not come up: ${state.trim()}`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
}

export function createNetnsPair(tag: string, subnet = '10.77.0'): NetnsPair {
  const a = { name: `pgas${tag}a`, address: `${subnet}.1` };
  const b = { name: `pgas${tag}b`, address: `${subnet}.2` };
  const destroy = (): void => {
    for (const ns of [a.name, b.name]) {
      killAllIn(ns);
      try { ip('netns', 'del', ns); } catch { /* not there */ }
    }
  };
  destroy(); // leftovers of an earlier, interrupted run with the same tag
  try {
    ip('netns', 'add', a.name);
    ip('netns', 'add', b.name);
    ip('-n', a.name, 'link', 'add', 'veth-a', 'type', 'veth', 'peer', 'name', 'veth-b', 'netns', b.name);
    ip('-n', a.name, 'addr', 'add', `${a.address}/24`, 'dev', 'veth-a');
    ip('-n', b.name, 'addr', 'add', `${b.address}/24`, 'dev', 'veth-b');
    for (const [ns, dev] of [[a.name, 'veth-a'], [b.name, 'veth-b']] as const) {
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      ip('-n', ns, 'link', 'set', dev, 'up');
    }
    // A veth reports carrier a moment after `link set up`; a rank started before that sees no
    // usable interface but lo (UCX then builds a worker address that only reaches its own namespace).
    for (const [ns, dev] of [[a.name, 'veth-a'], [b.name, 'veth-b']] as const) waitOperational(ns, dev);
  } catch (err) {
    destroy();
    throw err;
  }
  return { a, b, destroy };
}
