/**
 * Where ranks listen: on the address the hostfile gives, or loopback; never on all interfaces unless
 * --listen-any asks for it. Each rank reads its own listening sockets from /proc (fixture
 * security-listen.ts): the data server, and on rank 0 the rendezvous too.
 */
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runLauncher, uwsMissingReason } from './fixtures/launcher-harness.js';
import { runJob } from './helpers/job.js';
import { createSshKeys, sshdUnavailableReason, startSshd } from './helpers/sshd.js';
import { freePort } from '../runtime/launcher/free-port.js';

const FIXTURE = 'test/fixtures/security-listen.ts';
const uwsMissing = uwsMissingReason();
const sshdMissing = sshdUnavailableReason();

interface Report { rank: number; listening: string[] }

function reports(stdout: string): Report[] {
  const out: Report[] = [];
  for (const line of stdout.split('\n')) {
    const m = /(\{"rank":\d+,"listening":.*\})\s*$/.exec(line);
    if (m) out.push(JSON.parse(m[1]!) as Report);
  }
  return out.sort((a, b) => a.rank - b.rank);
}

const hosts = (r: Report): string[] => r.listening.map((a) => a.slice(0, a.lastIndexOf(':')));

const uwsTest = uwsMissing ? test.skip : test.serial;

uwsTest('by the environment contract, without PGAS_LISTEN_HOST: data server and rendezvous on 127.0.0.1 only', async (t) => {
  const result = await runJob({ transport: 'uws', size: 2, fixture: 'security-listen.js', timeoutMs: 60000 });
  const r = reports(result.stdout);
  t.is(r.length, 2, result.stderr);
  t.is(r[0]!.listening.length, 2, 'rank 0: its data server and the rendezvous');
  t.is(r[1]!.listening.length, 1, 'rank 1: its data server');
  for (const rep of r) t.deepEqual([...new Set(hosts(rep))], ['127.0.0.1'], JSON.stringify(rep));
});

uwsTest('pgas-run -n 2: loopback only; with --listen-any the data servers (only) bind 0.0.0.0', async (t) => {
  const plain = await runLauncher(['-n', '2', FIXTURE]);
  const p = reports(plain.stdout);
  t.is(p.length, 2, plain.stderr);
  for (const rep of p) t.deepEqual([...new Set(hosts(rep))], ['127.0.0.1'], JSON.stringify(rep));
  t.is(p[0]!.listening.length, 2);

  const any = await runLauncher(['-n', '2', '--listen-any', FIXTURE]);
  const a = reports(any.stdout);
  t.is(a.length, 2, any.stderr);
  t.deepEqual(hosts(a[1]!), ['0.0.0.0']);
  // rank 0: its data server on all interfaces as asked; the rendezvous stays on the advertised address
  t.deepEqual(hosts(a[0]!).sort(), ['0.0.0.0', '127.0.0.1']);
});

const sshTest = sshdMissing || uwsMissing ? test.skip : test.serial;
sshTest('pgas-run --hostfile naming 127.0.0.2: every rank and the rendezvous bind 127.0.0.2, nothing else', async (t) => {
  const keys = createSshKeys();
  t.teardown(() => keys.cleanup());
  const server = await startSshd(keys, '127.0.0.2', await freePort('127.0.0.2'));
  t.teardown(() => server.stop());
  const hostfile = join(keys.dir, 'hosts');
  writeFileSync(hostfile, '127.0.0.2 slots=2\n');
  const result = await runLauncher(['-n', '2', '--hostfile', hostfile, '--ssh-port', String(server.port), ...keys.launcherOptions, FIXTURE]);
  const r = reports(result.stdout);
  t.is(r.length, 2, `${result.stdout}\n${result.stderr}`);
  t.is(r[0]!.listening.length, 2);
  for (const rep of r) t.deepEqual([...new Set(hosts(rep))], ['127.0.0.2'], JSON.stringify(rep));
});
