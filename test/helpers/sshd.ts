/**
 * A real OpenSSH server for launcher tests: generated host and user keys, its own sshd_config in a temp
 * directory, listening on one address (optionally inside a network namespace). Root may log in with the
 * generated key only. Nothing outside the temp directory is touched except /run/sshd, the privilege
 * separation directory sshd insists on.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SSHD = '/usr/sbin/sshd';

/** Why a real sshd cannot run here, or undefined when it can. */
export function sshdUnavailableReason(): string | undefined {
  if (!existsSync(SSHD)) return `${SSHD} is not installed (Debian package openssh-server; .ci/run installs it)`;
  for (const tool of ['ssh', 'ssh-keygen']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `${tool} is not installed (Debian package openssh-client)`;
    }
  }
  if (process.getuid?.() !== 0) return 'sshd must run as root to log in as the current user with its own config';
  return undefined;
}

export interface SshKeys {
  dir: string;
  hostKey: string;
  userKey: string;
  authorizedKeys: string;
  /** pgas-run options that make ssh use the generated key without asking about host keys */
  launcherOptions: string[];
  cleanup(): void;
}

export function createSshKeys(): SshKeys {
  const dir = mkdtempSync(join(tmpdir(), 'pgas-sshd-'));
  const hostKey = join(dir, 'host_ed25519');
  const userKey = join(dir, 'user_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', userKey]);
  const authorizedKeys = join(dir, 'authorized_keys');
  copyFileSync(`${userKey}.pub`, authorizedKeys);
  return {
    dir,
    hostKey,
    userKey,
    authorizedKeys,
    launcherOptions: [
      '--ssh-identity', userKey,
      '--ssh-option', 'UserKnownHostsFile=/dev/null',
      '--ssh-option', 'StrictHostKeyChecking=no',
      '--ssh-option', 'LogLevel=ERROR',
      '--ssh-option', 'IdentitiesOnly=yes',
      // the cheapest modern key exchange: tests start many sessions on a small machine
      '--ssh-option', 'KexAlgorithms=curve25519-sha256',
    ],
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface SshServer {
  address: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

export async function startSshd(keys: SshKeys, address: string, port: number, netns?: string): Promise<SshServer> {
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const tag = `${netns ?? 'root'}-${address}-${port}`;
  const config = join(keys.dir, `sshd_config-${tag}`);
  writeFileSync(config, [
    `Port ${port}`,
    `ListenAddress ${address}`,
    `HostKey ${keys.hostKey}`,
    `PidFile ${join(keys.dir, `sshd-${tag}.pid`)}`,
    `AuthorizedKeysFile ${keys.authorizedKeys}`,
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'StrictModes no',
    'PrintMotd no',
    'PrintLastLog no',
    'MaxStartups 100:30:200',
    'MaxSessions 100',
    'LogLevel INFO',
    '',
  ].join('\n'));
  const argv = [SSHD, '-D', '-e', '-f', config];
  const child = netns ? spawn('ip', ['netns', 'exec', netns, ...argv], { stdio: ['ignore', 'ignore', 'pipe'] })
    : spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sshd did not start within 10 s: ${log}`)), 10000);
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      log += d;
      if (/Server listening on/.test(log)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`sshd exited with ${code}: ${log}`));
    });
  });
  return {
    address,
    port,
    process: child,
    stop: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 3000).unref();
    }),
  };
}
