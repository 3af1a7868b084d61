/**
 * pgas-run over SSH against a real OpenSSH server on a loopback port (generated host and user keys, its
 * own config): a hostfile naming 127.0.0.1 and localhost, the token kept off every command line and
 * environment, remote exits and signals reported, Ctrl-C leaving nothing behind on the "remote" side,
 * and unusable hosts named with ssh's own error.
 */
import test, { type ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ENV_RANK, PGAS_RANK, ROOT, killMarked, processesExposing, processesWith, runLauncher, sleep, startLauncher, uniqueMarker, uwsMissingReason,
  type Running,
} from './fixtures/launcher-harness.js';
import { createSshKeys, sshdUnavailableReason, startSshd, type SshKeys, type SshServer } from './helpers/sshd.js';
import { freePort } from '../runtime/launcher/free-port.js';

const sshdMissing = sshdUnavailableReason();
const uwsMissing = uwsMissingReason();

let keys: SshKeys;
let server: SshServer;
let hostfile: string;

if (!sshdMissing) {
  test.before(async () => {
    keys = createSshKeys();
    server = await startSshd(keys, '127.0.0.1', await freePort());
    hostfile = join(keys.dir, 'hosts');
    writeFileSync(hostfile, '# two names for this machine\n127.0.0.1 slots=2\nlocalhost slots=2\n');
  });
  test.after.always(async () => {
    await server?.stop();
    keys?.cleanup();
  });
}

const sshTest = (title: string, fn: (t: ExecutionContext) => Promise<void>, needsUws = false): void => {
  const reason = sshdMissing ?? (needsUws ? uwsMissing : undefined);
  if (reason) test.skip(`${title} (skipped: ${reason})`, () => {});
  else test.serial(title, fn);
};

const sshArgs = (): string[] => ['--hostfile', hostfile, '--ssh-port', String(server.port), ...keys.launcherOptions];

/** Scan every process's command line and environment for `secret` until the job ends. */
async function scanWhileRunning(job: Running, secret: string): Promise<{ scans: number; exposed: string[] }> {
  let finished = false;
  void job.done.then(() => { finished = true; });
  const exposed = new Set<string>();
  let scans = 0;
  while (!finished) {
    for (const e of processesExposing(secret)) exposed.add(e);
    scans++;
    await sleep(100);
  }
  return { scans, exposed: [...exposed] };
}

async function expectNoProcesses(t: ExecutionContext, marker: string): Promise<void> {
  for (let i = 0; i < 40 && processesWith(marker).length > 0; i++) await sleep(50);
  t.deepEqual(processesWith(marker), [], 'processes of the job are still running');
}

sshTest('4 ranks over ssh on 127.0.0.1 and localhost: contract, prefixes, token never on a command line', async (t) => {
  const marker = uniqueMarker('ssh4');
  t.teardown(() => killMarked(marker));
  const token = `tok-${randomBytes(16).toString('hex')}`;
  const tokenFile = join(keys.dir, 'token-contract');
  writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  // positive control: the scan does find a secret that sits in a process's environment or arguments
  const control = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 5000)', `${token}-arg`], { env: { ...process.env, CONTROL: token } });
  t.teardown(() => { control.kill('SIGKILL'); });
  for (let i = 0; i < 60 && processesExposing(token).length < 2; i++) await sleep(50);
  t.true(processesExposing(token).some((p) => p.startsWith(`${control.pid} environ`)), 'the scan cannot see environments');
  t.true(processesExposing(token).some((p) => p.startsWith(`${control.pid} cmdline`)), 'the scan cannot see command lines');
  control.kill('SIGKILL');
  await new Promise((r) => control.once('exit', r));
  const job = startLauncher(['-n', '4', ...sshArgs(), '--token-file', tokenFile, '-x', 'LAUNCHER_TEST_EXTRA=over-ssh',
    ENV_RANK, '--hold', '1500', marker]);
  const { scans, exposed } = await scanWhileRunning(job, token);
  const r = await job.done;
  t.is(r.code, 0, r.stderr);
  t.true(scans >= 5, `only ${scans} scans of the process table`);
  t.deepEqual(exposed, [], 'the token appeared in a command line or environment');
  const sha = createHash('sha256').update(token).digest('hex');
  for (let rank = 0; rank < 4; rank++) {
    const m = new RegExp(`^\\[${rank}\\] report (\\{.*\\})$`, 'm').exec(r.stdout);
    t.truthy(m, `no report from rank ${rank}`);
    const rep = JSON.parse(m![1]!) as Record<string, unknown>;
    const host = rank < 2 ? '127.0.0.1' : 'localhost';
    t.is(rep.rank, rank);
    t.is(rep.size, 4);
    t.is(rep.tokenSha, sha);
    t.is(rep.tokenFromStdin, true);
    t.is(rep.listenHost, host);
    t.is(rep.advertiseHost, host);
    t.is(rep.cwd, ROOT);
    t.is(rep.extra, 'over-ssh');
    t.regex(rep.rendezvous as string, /^127\.0\.0\.1:\d+$/);
    t.regex(r.stdout, new RegExp(`^\\[${rank}\\] done ${rank}$`, 'm'));
    t.regex(r.stderr, new RegExp(`^\\[${rank}\\] stderr line from rank ${rank}$`, 'm'));
  }
  t.notRegex(r.stderr, /@@pgas-remote-shim-exit@@/);
  t.regex(r.stderr, /4 ranks, transport uws, on 127\.0\.0\.1: 0-1, localhost: 2-3/);
  t.regex(r.stderr, /exit 0: ranks 0-3/);
  await expectNoProcesses(t, marker);
});

sshTest('4 real ranks over ssh do put, get, notify and barrier; the token is never on a command line', async (t) => {
  const marker = uniqueMarker('sshreal');
  t.teardown(() => killMarked(marker));
  const token = `tok-${randomBytes(16).toString('hex')}`;
  const tokenFile = join(keys.dir, 'token-real');
  writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  const job = startLauncher(['-n', '4', ...sshArgs(), '--token-file', tokenFile, PGAS_RANK, '--hold', '1000', marker]);
  const { exposed } = await scanWhileRunning(job, token);
  const r = await job.done;
  t.is(r.code, 0, r.stderr + r.stdout);
  t.deepEqual(exposed, []);
  for (let rank = 0; rank < 4; rank++) {
    const left = (rank + 3) % 4;
    t.regex(r.stdout, new RegExp(`^\\[${rank}\\] rank ${rank}/4 ok put=${left + 1} from=${left} notify=${100 + ((rank + 1) % 4)} get=${left + 1} `, 'm'));
  }
  t.regex(r.stderr, /exit 0: ranks 0-3/);
}, true);

sshTest('a remote exit code comes back through ssh and stops the other remote ranks', async (t) => {
  const marker = uniqueMarker('sshexit');
  t.teardown(() => killMarked(marker));
  const failed = await runLauncher(['-n', '4', ...sshArgs(), ENV_RANK, '--exit-rank', '3', '--exit-code', '3', '--hang', marker]);
  t.is(failed.code, 3, failed.stderr);
  t.regex(failed.stderr, /job failed: rank 3 exited with code 3 on localhost; stopped the other ranks/);
  t.regex(failed.stderr, /SIGTERM \(stopped by pgas-run\): ranks 0-2/);
  await expectNoProcesses(t, marker);
});

sshTest('a remote SIGKILL comes back through ssh as SIGKILL (ssh alone would say 255)', async (t) => {
  const marker = uniqueMarker('sshkill');
  t.teardown(() => killMarked(marker));
  const job = startLauncher(['-n', '4', '--tolerate-failures', ...sshArgs(), ENV_RANK, '--hold', '3000', marker]);
  await job.waitFor(/^\[2\] report /m);
  const pid = Number(/^\[2\] report .*"pid":(\d+)/m.exec(job.stdout())![1]);
  process.kill(pid, 'SIGKILL');
  const r = await job.done;
  t.is(r.code, 0, r.stderr);
  t.regex(r.stderr, /rank 2 killed by SIGKILL on localhost; the job goes on without it/);
  t.regex(r.stderr, /dead ranks: 2 \(killed by SIGKILL on localhost\)/);
  await expectNoProcesses(t, marker);
});

sshTest('a process a remote rank left running is stopped with it', async (t) => {
  const marker = uniqueMarker('sshleftover');
  t.teardown(() => killMarked(marker));
  const r = await runLauncher(['-n', '2', ...sshArgs(), ENV_RANK, '--leave-child', marker]);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout.match(/^\[\d\] left child \d+$/gm)?.length, 2);
  await expectNoProcesses(t, marker);
});

sshTest('Ctrl-C stops remote ranks too: no ssh client, shim or rank is left', async (t) => {
  const marker = uniqueMarker('sshctrlc');
  t.teardown(() => killMarked(marker));
  const job = startLauncher(['-n', '4', '--kill-grace', '1000', ...sshArgs(), ENV_RANK, '--hang', '--ignore-term', marker]);
  await job.waitFor(/^\[\d\] hanging \d$/m, 4);
  // launcher, 4 ssh clients, 4 remote shims, 4 ranks
  t.is(processesWith(marker).length, 13, processesWith(marker).map((p) => p.cmdline).join('\n'));
  job.child.kill('SIGINT');
  const r = await job.done;
  t.is(r.code, 130, r.stderr);
  t.regex(r.stdout, /ignoring SIGTERM/); // the shims did ask politely first
  await expectNoProcesses(t, marker);
});

sshTest('an unreachable host or a refused key is a usage error naming the host and ssh\'s message', async (t) => {
  const closed = await freePort();
  const hf = join(keys.dir, 'hosts-unreachable');
  writeFileSync(hf, '127.0.0.1 slots=4\n');
  const r = await runLauncher(['-n', '2', '--hostfile', hf, '--ssh-port', String(closed), ...keys.launcherOptions, ENV_RANK]);
  t.is(r.code, 2, r.stderr);
  t.regex(r.stderr, new RegExp(`pgas-run: error: host 127\\.0\\.0\\.1 unreachable over ssh: .*port ${closed}: Connection refused`));

  const otherKeys = createSshKeys();
  t.teardown(() => otherKeys.cleanup());
  const denied = await runLauncher(['-n', '4', '--hostfile', hostfile, '--ssh-port', String(server.port), ...otherKeys.launcherOptions, ENV_RANK]);
  t.is(denied.code, 2, denied.stderr);
  t.regex(denied.stderr, /host 127\.0\.0\.1 unreachable over ssh: .*Permission denied \(publickey\)/);
  t.regex(denied.stderr, /host localhost unreachable over ssh: .*Permission denied \(publickey\)/);
});
