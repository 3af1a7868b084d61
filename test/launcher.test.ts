/**
 * pgas-run on this machine, run as a real command: local jobs of real rank programs (put, get, notify,
 * barrier), the launcher↔rank contract, output forwarding, --info / --help, and flag errors.
 */
import test, { type ExecutionContext } from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENV_RANK, PGAS_RANK, baseEnv, killMarked, runLauncher, uniqueMarker, uwsMissingReason } from './fixtures/launcher-harness.js';

const uwsMissing = uwsMissingReason();
const uwsTest = (title: string, fn: (t: ExecutionContext) => Promise<void>): void => {
  if (uwsMissing) test.skip(`${title} (skipped: ${uwsMissing})`, () => {});
  else test.serial(title, fn);
};

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'pgas-launcher-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** the "report {...}" lines of launcher-env.ts, by rank prefix */
function reports(stdout: string): Map<number, Record<string, unknown>> {
  const out = new Map<number, Record<string, unknown>>();
  for (const m of stdout.matchAll(/^\[(\d+)\] report (\{.*\})$/gm)) out.set(Number(m[1]), JSON.parse(m[2]!) as Record<string, unknown>);
  return out;
}

function expectPgasOk(t: ExecutionContext, stdout: string, n: number): void {
  for (let r = 0; r < n; r++) {
    const left = (r + n - 1) % n;
    t.regex(stdout, new RegExp(`^\\[${r}\\] rank ${r}/${n} ok put=${left + 1} from=${left} notify=${100 + ((r + 1) % n)} get=${left + 1} `, 'm'), `rank ${r}`);
  }
  t.is(stdout.match(/^\[\d+\] rank \d+\/\d+ ok/gm)?.length ?? 0, n);
}

test.serial('--help prints the usage and exits 0', async (t) => {
  const r = await runLauncher(['--help']);
  t.is(r.code, 0);
  t.regex(r.stdout, /^Usage: pgas-run -n N \[options\] PROGRAM/);
  t.regex(r.stdout, /--hostfile/);
  t.regex(r.stdout, /--tolerate-failures/);
});

test.serial('--info says which transports and native paths are available and why not', async (t) => {
  const r = await runLauncher(['--info']);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /^ {2}uws\s+(yes\s+uWebSockets\.js binary loads|no\s+uWebSockets\.js binary does not load)/m);
  t.regex(r.stdout, /^ {2}threads\s+yes\s+always/m);
  t.regex(r.stdout, /^ {2}ucx\s+(yes\s+native addon .* loads, UCX [\d.]+|no\s+\S.*)$/m);
  const disabled = await runLauncher(['--info'], { env: baseEnv({ PGAS_NATIVE_DISABLE: '1' }) });
  t.regex(disabled.stdout, /^ {2}ucx\s+no\s+\S/m); // the transport's own words say why
  t.regex(r.stdout, /^ {2}native kernels \(BLAS\)\s+(yes|no )/m);
});

test.serial('a transport that is not available here is refused before any rank starts', async (t) => {
  // PGAS_NATIVE_DISABLE=1 makes the UCX transport report itself unavailable, whatever is installed
  const r = await runLauncher(['-n', '2', '--transport', 'ucx', ENV_RANK], { env: baseEnv({ PGAS_NATIVE_DISABLE: '1' }) });
  t.is(r.code, 2, r.stderr);
  t.regex(r.stderr, /pgas-run: error: transport ucx is not available here: \S.* \(see pgas-run --info\)/);
  t.notRegex(r.stdout, /report/);
});

test.serial('flag errors exit 2 with a message that names the problem', async (t) => {
  const dir = tempDir(t);
  const hostfile = join(dir, 'hosts');
  writeFileSync(hostfile, 'onlyhost slots=2\n');
  const cases: Array<[string[], RegExp]> = [
    [['--bogus', ENV_RANK], /unknown option '--bogus'/],
    [['-n', '0', ENV_RANK], /-n must be at least 1, got 0/],
    [['-n', '2'], /missing PROGRAM/],
    [['-n', '2', '--hostfile', join(dir, 'missing-hosts'), ENV_RANK], /cannot read hostfile .*missing-hosts/],
    [['-n', '3', '--hostfile', hostfile, ENV_RANK], /3 ranks do not fit the hostfile's 2 slots \(onlyhost: 2\)/],
    [['-n', '2', 'test/fixtures/never-written.ts'], /compiled counterpart .* does not exist/],
    [['-n', '2', 'no-such-app'], /'no-such-app' is neither a file nor an application name/],
    [['-n', '2', '--token-file', join(dir, 'none'), ENV_RANK], /cannot read --token-file/],
    [[ENV_RANK], /-n N is required/],
  ];
  for (const [args, message] of cases) {
    const r = await runLauncher(args);
    t.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    t.regex(r.stderr, /^pgas-run: error: /, args.join(' '));
    t.regex(r.stderr, message, args.join(' '));
  }
});

test.serial('local ranks get the whole contract; the token arrives on stdin only; output is prefixed', async (t) => {
  const dir = tempDir(t);
  const token = randomBytes(16).toString('hex');
  writeFileSync(join(dir, 'token'), `${token}\n`);
  const r = await runLauncher(['-n', '3', '--token-file', join(dir, 'token'), '--startup-timeout', '1234',
    '-x', 'LAUNCHER_TEST_EXTRA=forwarded', ENV_RANK, '--partial']);
  t.is(r.code, 0, r.stderr);
  const got = reports(r.stdout);
  t.deepEqual([...got.keys()].sort(), [0, 1, 2]);
  const rendezvous = new Set<unknown>();
  for (const [rank, rep] of got) {
    t.is(rep.rank, rank);
    t.is(rep.size, 3);
    t.is(rep.transport, 'uws');
    t.is(rep.tokenFromStdin, true);
    t.is(rep.tokenSha, createHash('sha256').update(token).digest('hex'));
    t.is(rep.startupTimeoutMs, 1234);
    t.is(rep.listenHost, '127.0.0.1');
    t.is(rep.extra, 'forwarded');
    rendezvous.add(rep.rendezvous);
    t.regex(r.stdout, new RegExp(`^\\[${rank}\\] partial-${rank}$`, 'm')); // last line without newline, flushed
    t.regex(r.stderr, new RegExp(`^\\[${rank}\\] stderr line from rank ${rank}$`, 'm'));
  }
  t.is(rendezvous.size, 1);
  t.regex([...rendezvous][0] as string, /^127\.0\.0\.1:\d+$/);
  t.regex(r.stderr, /pgas-run: 3 ranks, transport uws, on localhost, wall time [\d.]+ s\npgas-run: exit 0: ranks 0-2\npgas-run: exit status 0/);
});

test.serial('--output-dir writes rank-N.out and rank-N.err unprefixed and unchanged', async (t) => {
  const dir = tempDir(t);
  const r = await runLauncher(['-n', '2', '--output-dir', join(dir, 'logs'), ENV_RANK, '--partial']);
  t.is(r.code, 0, r.stderr);
  t.notRegex(r.stdout, /report/);
  for (const rank of [0, 1]) {
    const out = readFileSync(join(dir, 'logs', `rank-${rank}.out`), 'utf8');
    t.regex(out, new RegExp(`^report \\{"rank":${rank},`));
    t.true(out.endsWith(`\npartial-${rank}`));
    t.is(readFileSync(join(dir, 'logs', `rank-${rank}.err`), 'utf8'), `stderr line from rank ${rank}\n`);
  }
});

for (const n of [1, 2, 8]) {
  uwsTest(`local job of ${n} rank process(es) does put, get, notify and barrier`, async (t) => {
    const marker = uniqueMarker(`local${n}`);
    t.teardown(() => killMarked(marker));
    const r = await runLauncher(['-n', String(n), PGAS_RANK, marker]);
    t.is(r.code, 0, r.stderr + r.stdout);
    expectPgasOk(t, r.stdout, n);
    t.regex(r.stderr, new RegExp(`exit 0: ${n === 1 ? 'rank 0' : `ranks 0-${n - 1}`}`));
  });

  test.serial(`threads job of ${n} rank(s) in one process does put, get, notify and barrier`, async (t) => {
    const marker = uniqueMarker(`threads${n}`);
    t.teardown(() => killMarked(marker));
    const r = await runLauncher(['-n', String(n), '--transport', 'threads', PGAS_RANK, marker]);
    t.is(r.code, 0, r.stderr + r.stdout);
    const label = n === 1 ? '0' : `0-${n - 1}`;
    for (let rank = 0; rank < n; rank++) {
      const left = (rank + n - 1) % n;
      t.regex(r.stdout, new RegExp(`^\\[${label}\\] rank ${rank}/${n} ok put=${left + 1} from=${left} `, 'm'));
    }
    t.regex(r.stderr, new RegExp(`transport threads, on localhost`));
  });
}

test.serial('an application runs by its registered name (demo)', async (t) => {
  const r = await runLauncher(['-n', '3', '--transport', 'threads', 'demo']);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout.match(/^\[0-2\] .*allreduce: sum of ranks = 3, ranks = 3$/gm)?.length, 3);
});
