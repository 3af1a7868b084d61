/**
 * The launcher's pure parts: flag parsing, hostfiles, placement, Slurm node lists, scheduler
 * detection, program resolution, quoting of remote commands, output line splitting, the summary.
 */
import test from 'ava';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { parseArgs } from '../runtime/launcher/args.js';
import { UsageError } from '../runtime/launcher/errors.js';
import { parseHostfile } from '../runtime/launcher/hostfile.js';
import { expandNodelist } from '../runtime/launcher/nodelist.js';
import { forwardPrefixed } from '../runtime/launcher/output.js';
import { describePlacement, placeRanks } from '../runtime/launcher/placement.js';
import { resolveProgram } from '../runtime/launcher/program.js';
import { childEnvironment, rankEnv } from '../runtime/launcher/rank-env.js';
import { DERIVED_PORT_BASE, DERIVED_PORT_SPAN, derivePort, deriveToken, detectScheduler, taskEnvironment } from '../runtime/launcher/scheduler-env.js';
import { parseShimExit, SHIM_EXIT_MARKER } from '../runtime/launcher/shim-protocol.js';
import { remoteRankCommand, shellQuote, sshArgs } from '../runtime/launcher/ssh-spawn.js';
import { formatSummary } from '../runtime/launcher/summary.js';

const usage = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    if (err instanceof UsageError) return err.message;
    throw err;
  }
  throw new Error('expected a UsageError');
};

test('parseArgs: options before PROGRAM, program arguments untouched', (t) => {
  const cmd = parseArgs(['-n', '4', '--transport=threads', '--startup-timeout', '500', '-x', 'A=1', '-x', 'HOME',
    'prog.js', '-n', '9', '--tolerate-failures']);
  t.is(cmd.kind, 'launch');
  if (cmd.kind !== 'launch') return;
  t.is(cmd.options.ranks, 4);
  t.is(cmd.options.transport, 'threads');
  t.is(cmd.options.startupTimeoutMs, 500);
  t.deepEqual(cmd.options.env, [['A', '1'], ['HOME', undefined]]);
  t.is(cmd.options.program, 'prog.js');
  t.deepEqual(cmd.options.programArgs, ['-n', '9', '--tolerate-failures']);
  t.false(cmd.options.tolerateFailures);
  t.deepEqual(parseArgs(['--help']), { kind: 'help' });
  t.deepEqual(parseArgs(['--info']), { kind: 'info' });
  const dashed = parseArgs(['-n', '1', '--', '--weird-name.js']);
  t.is(dashed.kind === 'launch' ? dashed.options.program : '', '--weird-name.js');
});

test('parseArgs: every bad flag is a UsageError that says what is wrong', (t) => {
  t.regex(usage(() => parseArgs(['--frobnicate', 'x.js'])), /unknown option '--frobnicate'/);
  t.regex(usage(() => parseArgs(['-n', '0', 'x.js'])), /-n must be at least 1, got 0/);
  t.regex(usage(() => parseArgs(['-n', '-3', 'x.js'])), /-n must be at least 1/);
  t.regex(usage(() => parseArgs(['-n', 'four', 'x.js'])), /-n needs a whole number, got 'four'/);
  t.regex(usage(() => parseArgs(['-n', '2'])), /missing PROGRAM/);
  t.regex(usage(() => parseArgs(['-n'])), /-n needs a value/);
  t.regex(usage(() => parseArgs(['-n', '2', '--transport', 'carrier-pigeon', 'x.js'])), /--transport must be uws, threads or ucx/);
  t.regex(usage(() => parseArgs(['-n', '2', '--ssh-port', '70000', 'x.js'])), /--ssh-port must be between 1 and 65535/);
  t.regex(usage(() => parseArgs(['--rendezvous', 'nohostport', 'x.js'])), /--rendezvous must be host:port/);
  t.regex(usage(() => parseArgs(['-n', '2', '--tolerate-failures=yes', 'x.js'])), /takes no value/);
  t.regex(usage(() => parseArgs(['-x', 'PGAS_TOKEN=abc', '-n', '1', 'x.js'])), /PGAS_TOKEN is refused/);
  t.regex(usage(() => parseArgs(['--hostfile', 'h', 'x.js'])), /--hostfile needs -n/);
  t.regex(usage(() => parseArgs(['-n', '2', '--rendezvous', 'h:1', 'x.js'])), /--rendezvous is for srun\/mpirun tasks/);
  t.regex(usage(() => parseArgs(['-n', '2', '--hostfile', 'h', '--transport', 'threads', 'x.js'])), /threads .* cannot use --hostfile/);
});

test('hostfile: hosts, slots, comments, blank lines, user@host, IPv6', (t) => {
  const hosts = parseHostfile('# cluster\n\nnode1 slots=2\n  alice@node2   # login as alice\n[::1] slots=3\n', 'h');
  t.deepEqual(hosts.map((h) => [h.target, h.address, h.slots, h.line]), [
    ['node1', 'node1', 2, 3],
    ['alice@node2', 'node2', 1, 4],
    ['::1', '::1', 3, 5],
  ]);
  t.regex(usage(() => parseHostfile('node1 cpus=4\n', 'hf')), /hf:1: unknown field 'cpus=4'/);
  t.regex(usage(() => parseHostfile('a\nnode1 slots=0\n', 'hf')), /hf:2: slots must be at least 1/);
  t.regex(usage(() => parseHostfile('# only a comment\n', 'hf')), /names no hosts/);
  t.regex(usage(() => parseHostfile('evil;rm\n', 'hf')), /not a host name/);
});

test('placement fills slots in order; too many ranks is an error unless oversubscribed', (t) => {
  const hosts = parseHostfile('a slots=2\nb slots=1\n', 'h');
  t.deepEqual(placeRanks(3, hosts, false).map((p) => p.host.target), ['a', 'a', 'b']);
  t.is(describePlacement(placeRanks(3, hosts, false)), 'a: 0-1, b: 2');
  t.regex(usage(() => placeRanks(4, hosts, false)), /4 ranks do not fit the hostfile's 3 slots \(a: 2, b: 1\).*--oversubscribe/);
  t.deepEqual(placeRanks(5, hosts, true).map((p) => p.host.target), ['a', 'a', 'b', 'a', 'a']);
});

test('Slurm node lists expand with zero padding, several ranges and groups', (t) => {
  t.deepEqual(expandNodelist('node[01-03,07]'), ['node01', 'node02', 'node03', 'node07']);
  t.deepEqual(expandNodelist('login1,gpu[8-10],x'), ['login1', 'gpu8', 'gpu9', 'gpu10', 'x']);
  t.deepEqual(expandNodelist('r[1-2]-n[1-2]'), ['r1-n1', 'r1-n2', 'r2-n1', 'r2-n2']);
  t.deepEqual(expandNodelist('localhost'), ['localhost']);
  t.regex(usage(() => expandNodelist('node[1-3')), /unbalanced/);
  t.regex(usage(() => expandNodelist('node[3-1]')), /descending/);
});

test('scheduler detection: Open MPI before PMI before Slurm; PMI that repeats Slurm counts as Slurm', (t) => {
  t.is(detectScheduler({}), undefined);
  t.deepEqual(detectScheduler({ SLURM_PROCID: '2', SLURM_NTASKS: '4' }), { kind: 'slurm', rank: 2, size: 4 });
  t.deepEqual(detectScheduler({ SLURM_PROCID: '1', SLURM_NTASKS: '2', OMPI_COMM_WORLD_RANK: '5', OMPI_COMM_WORLD_SIZE: '8' }),
    { kind: 'ompi', rank: 5, size: 8 });
  t.deepEqual(detectScheduler({ SLURM_PROCID: '1', SLURM_NTASKS: '2', PMI_RANK: '1', PMI_SIZE: '2' }), { kind: 'slurm', rank: 1, size: 2 });
  t.deepEqual(detectScheduler({ SLURM_PROCID: '0', SLURM_NTASKS: '2', PMI_RANK: '3', PMI_SIZE: '8' }), { kind: 'pmi', rank: 3, size: 8 });
});

test('Slurm task environment: rendezvous on the first node, derived port and token agree across tasks', (t) => {
  const env = { SLURM_PROCID: '3', SLURM_NTASKS: '4', SLURM_JOB_ID: '1234', SLURM_STEP_ID: '0', SLURM_STEP_NODELIST: 'cn[07-08]', SLURMD_NODENAME: 'cn08' };
  const task = taskEnvironment({ env, hostname: 'h', uid: 1000, rendezvous: undefined, rendezvousPort: undefined, listenAny: false })!;
  t.is(task.rank, 3);
  t.deepEqual(task.rendezvous, { host: 'cn07', port: derivePort('1234', '0') });
  t.true(task.rendezvous.port >= DERIVED_PORT_BASE && task.rendezvous.port < DERIVED_PORT_BASE + DERIVED_PORT_SPAN);
  t.is(task.token, deriveToken('slurm', '1234', '0', '1000'));
  t.true(task.tokenDerived);
  t.is(task.advertiseHost, 'cn08');
  t.is(task.listenHost, 'cn08');
  t.not(derivePort('1234', '1'), derivePort('1234', '0'));
  const other = taskEnvironment({ env: { ...env, PGAS_TOKEN: 'a-real-secret', PGAS_RENDEZVOUS_PORT: '5000' }, hostname: 'h', uid: 1000, rendezvous: undefined, rendezvousPort: undefined, listenAny: true })!;
  t.is(other.token, 'a-real-secret');
  t.is(other.rendezvous.port, 5000);
  t.is(other.listenHost, '0.0.0.0');
  t.regex(usage(() => taskEnvironment({ env: { SLURM_PROCID: '0', SLURM_NTASKS: '4', SLURM_JOB_ID: '1' }, hostname: 'h', uid: 0, rendezvous: undefined, rendezvousPort: undefined, listenAny: false })),
    /batch script, not a task of srun/);
});

test('MPI task environment needs a rendezvous address and a token or job id', (t) => {
  const base = { OMPI_COMM_WORLD_RANK: '1', OMPI_COMM_WORLD_SIZE: '2' };
  const input = { hostname: 'node9', uid: 7, rendezvousPort: undefined, listenAny: false };
  t.regex(usage(() => taskEnvironment({ ...input, env: base, rendezvous: undefined })), /pass --rendezvous HOST:PORT/);
  t.regex(usage(() => taskEnvironment({ ...input, env: base, rendezvous: 'n0:7000' })), /set PGAS_TOKEN/);
  const task = taskEnvironment({ ...input, env: { ...base, OMPI_MCA_ess_base_jobid: '42' }, rendezvous: 'n0:7000' })!;
  t.deepEqual(task.rendezvous, { host: 'n0', port: 7000 });
  t.is(task.token, deriveToken('ompi', '42', 'n0:7000', '7'));
  t.is(task.advertiseHost, 'node9');
  const pmi = taskEnvironment({ ...input, env: { PMI_RANK: '0', PMI_SIZE: '3', PGAS_TOKEN: 'tok-tok-tok', PGAS_RENDEZVOUS: '[::1]:9000' }, rendezvous: undefined })!;
  t.is(pmi.kind, 'pmi');
  t.deepEqual(pmi.rendezvous, { host: '::1', port: 9000 });
  t.false(pmi.tokenDerived);
});

test('program resolution: .js files, .ts mapped to dist/, application names, clear errors', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'pgas-prog-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'dist', 'tools'), { recursive: true });
  mkdirSync(join(root, 'tools'));
  writeFileSync(join(root, 'tools', 'a.ts'), '');
  writeFileSync(join(root, 'tools', 'b.ts'), '');
  writeFileSync(join(root, 'dist', 'tools', 'a.js'), '');
  writeFileSync(join(root, 'plain.js'), '');
  t.is(resolveProgram('plain.js', root, root).path, join(root, 'plain.js'));
  t.is(resolveProgram('tools/a.ts', root, root).path, join(root, 'dist', 'tools', 'a.js'));
  t.regex(usage(() => resolveProgram('tools/b.ts', root, root)), /compiled counterpart .*dist\/tools\/b\.js does not exist; run npx tsc/);
  t.is(resolveProgram('app', root, root, { app: 'dist/tools/a.js' }).path, join(root, 'dist', 'tools', 'a.js'));
  t.regex(usage(() => resolveProgram('ghost', root, root, { app: 'dist/none.js' })), /'ghost' is neither a file nor an application name \(applications: app\)/);
  t.regex(usage(() => resolveProgram('app', root, root, { app: 'dist/none.js' })), /registered as dist\/none\.js, which does not exist/);
});

test('rank environment: the token is never in it; stale contract variables and PGAS_TOKEN are scrubbed', (t) => {
  const vars = rankEnv({ rank: 2, size: 4, transport: 'uws', rendezvous: { host: '::1', port: 99 }, listenHost: '0.0.0.0', advertiseHost: 'n1', startupTimeoutMs: 500, heartbeatMs: undefined });
  t.deepEqual(vars, {
    PGAS_SIZE: '4', PGAS_TRANSPORT: 'uws', PGAS_TOKEN_STDIN: '1', PGAS_RANK: '2', PGAS_RENDEZVOUS: '[::1]:99',
    PGAS_LISTEN_HOST: '0.0.0.0', PGAS_ADVERTISE_HOST: 'n1', PGAS_STARTUP_TIMEOUT_MS: '500',
  });
  const env = childEnvironment({ PATH: '/bin', PGAS_TOKEN: 'secret!!', PGAS_LISTEN_HOST: 'stale', PGAS_LAUNCHER_PID: '1', SLURM_LOCALID: '1', PGAS_CONFIG: '{}', FOO: 'x' }, vars, [['FOO', undefined], ['BAR', 'y']]);
  t.is(env.PGAS_TOKEN, undefined);
  t.is(env.PGAS_LAUNCHER_PID, undefined, 'a launcher pid from an enclosing job must not reach the rank');
  t.is(rankEnv({ rank: 0, size: 1, transport: 'uws', rendezvous: undefined, listenHost: undefined, advertiseHost: undefined, startupTimeoutMs: undefined, heartbeatMs: undefined, launcherPid: 42 }).PGAS_LAUNCHER_PID, '42');
  t.is(env.PGAS_LISTEN_HOST, '0.0.0.0');
  t.is(env.SLURM_LOCALID, '1');
  t.is(env.PGAS_CONFIG, '{}');
  t.is(env.FOO, 'x');
  t.is(env.BAR, 'y');
  t.is(env.PGAS_RANK, '2');
});

test('remote command: quoted for the remote shell, token absent, options before our defaults', (t) => {
  t.is(shellQuote('plain/path-1.js'), 'plain/path-1.js');
  t.is(shellQuote("it's here"), `'it'\\''s here'`);
  const cmd = remoteRankCommand({ cwd: '/work dir', node: '/usr/bin/node', shim: '/p/shim.js', program: '/p/prog.js', args: ['a b', '$HOME'], vars: { PGAS_RANK: '1' }, killGraceMs: 100 });
  t.is(cmd, `cd '/work dir' && exec env PGAS_RANK=1 /usr/bin/node /p/shim.js --grace 100 -- /p/prog.js 'a b' '$HOME'`);
  const args = sshArgs({ command: 'ssh', port: 2222, identity: '/k', options: ['ConnectTimeout=3'] }, 'alice@n1', cmd);
  t.deepEqual(args.slice(0, 4), ['-o', 'BatchMode=yes', '-o', 'ConnectTimeout=3']);
  t.true(args.indexOf('ConnectTimeout=3') < args.indexOf('ConnectTimeout=10'));
  t.deepEqual(args.slice(-6), ['-p', '2222', '-i', '/k', 'alice@n1', cmd]);
  t.deepEqual(parseShimExit(`${SHIM_EXIT_MARKER}{"code":null,"signal":"SIGKILL"}`), { code: null, signal: 'SIGKILL' });
  t.is(parseShimExit('ordinary output'), undefined);
});

test('output: lines prefixed, split chunks and multi-byte characters intact, last partial line flushed', async (t) => {
  const source = new PassThrough();
  const chunks: Buffer[] = [];
  const dest = new Writable({ write(chunk: Buffer, _e, cb) { chunks.push(chunk); cb(); } });
  const done = forwardPrefixed(source, '[3] ', dest);
  const euro = Buffer.from('€');
  source.write(Buffer.concat([Buffer.from('one\ntw'), euro.subarray(0, 1)]));
  source.write(Buffer.concat([euro.subarray(1), Buffer.from('o\nlast')]));
  source.end();
  await done;
  t.is(Buffer.concat(chunks).toString('utf8'), '[3] one\n[3] tw€o\n[3] last\n');
  t.is(chunks.length, 3); // one write per line: lines of different ranks never mix
});

test('summary groups ranks by outcome and names dead ranks', (t) => {
  const text = formatSummary({
    size: 4, transport: 'uws', hosts: 'a: 0-1, b: 2-3', wallMs: 1234,
    outcomes: [
      { label: '0', rank: 0, host: 'a', exit: { code: 0, signal: null }, stoppedByLauncher: false },
      { label: '1', rank: 1, host: 'a', exit: { code: 0, signal: null }, stoppedByLauncher: false },
      { label: '2', rank: 2, host: 'b', exit: { code: null, signal: 'SIGKILL' }, stoppedByLauncher: false },
      { label: '3', rank: 3, host: 'b', exit: { code: 0, signal: null }, stoppedByLauncher: false },
    ],
    dead: [{ label: '2', rank: 2, host: 'b', exit: { code: null, signal: 'SIGKILL' }, stoppedByLauncher: false }],
    failure: undefined,
    exitCode: 0,
  });
  t.regex(text, /4 ranks, transport uws, on a: 0-1, b: 2-3, wall time 1\.23 s/);
  t.regex(text, /exit 0: ranks 0-1,3; SIGKILL: rank 2/);
  t.regex(text, /dead ranks: 2 \(killed by SIGKILL on b\)/);
});
