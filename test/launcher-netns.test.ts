/**
 * Several hosts for real: two network namespaces joined by a veth pair (10.77.0.1 and 10.77.0.2), an
 * sshd in each, pgas-run in the first. Ranks on the second "host" have a different address and reach
 * rank 0's rendezvous and the other ranks only over the veth link.
 */
import test, { type ExecutionContext } from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENV_RANK, PGAS_RANK, killMarked, processesWith, runLauncher, sleep, uniqueMarker, uwsMissingReason } from './fixtures/launcher-harness.js';
import { createNetnsPair, netnsUnavailableReason, type NetnsPair } from './helpers/netns.js';
import { createSshKeys, sshdUnavailableReason, startSshd, type SshKeys, type SshServer } from './helpers/sshd.js';

const missing = sshdUnavailableReason() ?? netnsUnavailableReason();
const uwsMissing = uwsMissingReason();

let pair: NetnsPair;
let keys: SshKeys;
const servers: SshServer[] = [];
let hostfile: string;

if (!missing) {
  test.before(async () => {
    pair = createNetnsPair(String(process.pid % 100000));
    keys = createSshKeys();
    servers.push(await startSshd(keys, pair.a.address, 22, pair.a.name));
    servers.push(await startSshd(keys, pair.b.address, 22, pair.b.name));
    hostfile = join(keys.dir, 'hosts');
    writeFileSync(hostfile, `${pair.a.address} slots=2\n${pair.b.address} slots=2\n`);
  });
  test.after.always(async () => {
    for (const s of servers) await s.stop();
    pair?.destroy();
    keys?.cleanup();
  });
}

const nsTest = (title: string, fn: (t: ExecutionContext) => Promise<void>, needsUws = false): void => {
  const reason = missing ?? (needsUws ? uwsMissing : undefined);
  if (reason) test.skip(`${title} (skipped: ${reason})`, () => {});
  else test.serial(title, fn);
};

async function expectNoProcesses(t: ExecutionContext, marker: string): Promise<void> {
  for (let i = 0; i < 40 && processesWith(marker).length > 0; i++) await sleep(50);
  t.deepEqual(processesWith(marker), []);
}

nsTest('ranks on two namespaces get their own host address and rank 0\'s rendezvous address', async (t) => {
  const marker = uniqueMarker('netnsenv');
  t.teardown(() => killMarked(marker));
  const r = await runLauncher(['-n', '4', '--hostfile', hostfile, ...keys.launcherOptions, ENV_RANK, marker], { netns: pair.a.name });
  t.is(r.code, 0, r.stderr);
  for (let rank = 0; rank < 4; rank++) {
    const rep = JSON.parse(new RegExp(`^\\[${rank}\\] report (\\{.*\\})$`, 'm').exec(r.stdout)![1]!) as Record<string, unknown>;
    const host = rank < 2 ? pair.a.address : pair.b.address;
    t.is(rep.listenHost, host);
    t.is(rep.advertiseHost, host);
    t.regex(rep.rendezvous as string, new RegExp(`^${pair.a.address.replace(/\./g, '\\.')}:\\d+$`));
  }
  t.regex(r.stderr, new RegExp(`on ${pair.a.address}: 0-1, ${pair.b.address}: 2-3`));
  await expectNoProcesses(t, marker);
});

nsTest('4 real ranks across two namespaces do put, get, notify and barrier over the veth link', async (t) => {
  const marker = uniqueMarker('netnsreal');
  t.teardown(() => killMarked(marker));
  const r = await runLauncher(['-n', '4', '--hostfile', hostfile, ...keys.launcherOptions, PGAS_RANK, marker], { netns: pair.a.name });
  t.is(r.code, 0, r.stderr + r.stdout);
  for (let rank = 0; rank < 4; rank++) {
    const left = (rank + 3) % 4;
    const address = rank < 2 ? pair.a.address : pair.b.address;
    // each rank sees only its own namespace's address: they really are on different "hosts"
    t.regex(r.stdout, new RegExp(`^\\[${rank}\\] rank ${rank}/4 ok put=${left + 1} from=${left} .* addresses=${address.replace(/\./g, '\\.')}$`, 'm'));
  }
  await expectNoProcesses(t, marker);
}, true);

nsTest('--listen-any binds 0.0.0.0 but still advertises the host address', async (t) => {
  const marker = uniqueMarker('netnsany');
  t.teardown(() => killMarked(marker));
  const r = await runLauncher(['-n', '3', '--listen-any', '--hostfile', hostfile, ...keys.launcherOptions, ENV_RANK, marker], { netns: pair.a.name });
  t.is(r.code, 0, r.stderr);
  const rep = JSON.parse(/^\[2\] report (\{.*\})$/m.exec(r.stdout)![1]!) as Record<string, unknown>;
  t.is(rep.listenHost, '0.0.0.0');
  t.is(rep.advertiseHost, pair.b.address);
});
