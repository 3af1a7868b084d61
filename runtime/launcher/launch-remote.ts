/**
 * Hostfile jobs: ranks placed on the hostfile's hosts and started over ssh. Every host is probed first
 * (in parallel), so that an unreachable host, a missing node binary or a missing program is one clear
 * error naming the host before any rank starts; the probe of rank 0's host also picks the rendezvous
 * port there. Each rank binds and advertises its host's name or address as written in the hostfile
 * (--listen-any: binds 0.0.0.0), so the hostfile should name hosts the way the other hosts reach them.
 */
import { HostError } from './errors.js';
import { runJob } from './job.js';
import { outputSink, startupSettings, type LaunchContext } from './launch-common.js';
import { REMOTE_SHIM } from './paths.js';
import { describePlacement, placeRanks } from './placement.js';
import { readHostfile } from './hostfile.js';
import { rankEnv, resolveExtraEnv } from './rank-env.js';
import { probeHost, spawnRemoteRank, type SshSettings } from './ssh-spawn.js';
import type { JobReport } from './summary.js';

export async function launchRemote(ctx: LaunchContext, token: string): Promise<JobReport> {
  const { options } = ctx;
  const size = options.ranks!;
  const hosts = readHostfile(options.hostfile!);
  const placements = placeRanks(size, hosts, options.oversubscribe);
  const ssh: SshSettings = { command: 'ssh', port: options.sshPort, identity: options.sshIdentity, options: options.sshOptions };
  const sink = outputSink(options);

  const rank0 = placements[0]!.host;
  const targets = [...new Set(placements.map((p) => p.host.target))];
  const results = await Promise.allSettled(targets.map((target) => probeHost(
    target, ssh, ctx.cwd, ctx.node, REMOTE_SHIM, ctx.program.path,
    target === rank0.target && options.rendezvousPort === undefined,
  )));
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) throw new HostError(targets.join(','), failures.map((f) => f.message).join('\n'));
  const rank0Probe = results[targets.indexOf(rank0.target)];
  const port = options.rendezvousPort
    ?? (rank0Probe?.status === 'fulfilled' ? rank0Probe.value.port : undefined);
  if (port === undefined) throw new HostError(rank0.target, `host ${rank0.target} did not report a free port for the rendezvous`);

  const settings = startupSettings(ctx);
  const extra = resolveExtraEnv(ctx.env, options.env);
  return runJob({
    size,
    transport: options.transport,
    hosts: describePlacement(placements),
    tolerateFailures: options.tolerateFailures,
    killGraceMs: options.killGraceMs,
    sink,
    summary: 'full',
    observer: ctx.observer,
    start: () => placements.map(({ rank, host }) => spawnRemoteRank({
      rank,
      target: host.target,
      ssh,
      cwd: ctx.cwd,
      node: ctx.node,
      shim: REMOTE_SHIM,
      program: ctx.program.path,
      args: options.programArgs,
      vars: {
        ...extra,
        ...rankEnv({
          rank,
          size,
          transport: options.transport,
          rendezvous: { host: rank0.address, port },
          listenHost: options.listenAny ? '0.0.0.0' : host.address,
          advertiseHost: host.address,
          ...settings,
        }),
      },
      token,
      killGraceMs: options.killGraceMs,
    })),
  });
}
