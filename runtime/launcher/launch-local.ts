/**
 * Local jobs: -n N processes on this machine (uws, ucx), or one process whose ranks are worker threads
 * (threads: init() in that process hosts PGAS_SIZE rank threads when PGAS_RANK is unset).
 */
import { UsageError } from './errors.js';
import { freePort } from './free-port.js';
import { transportCapability } from './info.js';
import { runJob, type JobSpec } from './job.js';
import { outputSink, startupSettings, type LaunchContext } from './launch-common.js';
import { spawnLocalRank } from './local-spawn.js';
import { PACKAGE_ROOT } from './paths.js';
import { childEnvironment, rankEnv } from './rank-env.js';
import type { JobReport } from './summary.js';

/** Refuse a transport this installation cannot run, before starting N processes that would all fail. */
async function requireTransport(name: string): Promise<void> {
  const cap = await transportCapability(name, PACKAGE_ROOT);
  if (cap && !cap.available) throw new UsageError(`transport ${name} is not available here: ${cap.detail} (see pgas-run --info)`);
}

export async function launchLocal(ctx: LaunchContext, token: string): Promise<JobReport> {
  const { options } = ctx;
  const size = options.ranks!;
  await requireTransport(options.transport);
  const settings = startupSettings(ctx);
  const common: Omit<JobSpec, 'start'> = {
    size,
    transport: options.transport,
    hosts: 'localhost',
    tolerateFailures: options.tolerateFailures,
    killGraceMs: options.killGraceMs,
    sink: outputSink(options),
    summary: 'full',
    observer: ctx.observer,
  };

  if (options.transport === 'threads') {
    const vars = rankEnv({ rank: undefined, size, transport: 'threads', rendezvous: undefined, listenHost: undefined, advertiseHost: undefined, ...settings, launcherPid: process.pid });
    delete vars.PGAS_TOKEN_STDIN; // ranks of one process need no token
    return runJob({
      ...common,
      start: () => [spawnLocalRank({
        rank: undefined,
        label: size === 1 ? '0' : `0-${size - 1}`,
        node: ctx.node,
        nodeArgs: [],
        program: ctx.program.path,
        args: options.programArgs,
        cwd: ctx.cwd,
        env: childEnvironment(ctx.env, vars, options.env),
        token: undefined,
      })],
    });
  }

  const advertiseHost = '127.0.0.1';
  const listenHost = options.listenAny ? '0.0.0.0' : advertiseHost;
  const port = options.rendezvousPort ?? (await freePort(listenHost));
  return runJob({
    ...common,
    start: () => Array.from({ length: size }, (_, rank) => {
      const vars = rankEnv({ rank, size, transport: options.transport, rendezvous: { host: advertiseHost, port }, listenHost, advertiseHost, ...settings, launcherPid: process.pid });
      return spawnLocalRank({
        rank,
        label: String(rank),
        node: ctx.node,
        nodeArgs: [],
        program: ctx.program.path,
        args: options.programArgs,
        cwd: ctx.cwd,
        env: childEnvironment(ctx.env, vars, options.env),
        token,
      });
    }),
  });
}
