/**
 * pgas-run started by srun or mpirun (no -n): this process is one task, so it runs the program as that
 * one rank (see scheduler-env.ts for how rank, rendezvous and token are found). The launcher stays in
 * between so that the token still reaches the program on stdin, output keeps its rank prefix, and a
 * signal from the scheduler stops the program in order.
 */
import { hostname, userInfo } from 'node:os';
import { UsageError } from './errors.js';
import { runJob } from './job.js';
import { outputSink, startupSettings, type LaunchContext } from './launch-common.js';
import { spawnLocalRank } from './local-spawn.js';
import { childEnvironment, rankEnv } from './rank-env.js';
import { taskEnvironment } from './scheduler-env.js';
import type { JobReport } from './summary.js';

export async function launchTask(ctx: LaunchContext): Promise<JobReport> {
  const { options } = ctx;
  const task = taskEnvironment({
    env: ctx.env,
    hostname: hostname(),
    uid: userInfo().uid,
    rendezvous: options.rendezvous,
    rendezvousPort: options.rendezvousPort,
    listenAny: options.listenAny,
  });
  if (!task) {
    throw new UsageError('-n N is required (or start pgas-run as a task of srun or mpirun, which set the rank and size)');
  }
  if (options.transport === 'threads') {
    throw new UsageError('--transport threads runs every rank in one process: use -n N, not srun/mpirun tasks');
  }
  const vars = rankEnv({
    rank: task.rank,
    size: task.size,
    transport: options.transport,
    rendezvous: task.rendezvous,
    listenHost: task.listenHost,
    advertiseHost: task.advertiseHost,
    ...startupSettings(ctx),
    launcherPid: process.pid,
  });
  return runJob({
    size: task.size,
    transport: options.transport,
    hosts: `${task.advertiseHost} (${task.kind} task ${task.rank} of ${task.size})`,
    tolerateFailures: options.tolerateFailures,
    killGraceMs: options.killGraceMs,
    sink: outputSink(options),
    summary: 'failures',
    start: () => [spawnLocalRank({
      rank: task.rank,
      label: String(task.rank),
      node: ctx.node,
      nodeArgs: [],
      program: ctx.program.path,
      args: options.programArgs,
      cwd: ctx.cwd,
      env: childEnvironment(ctx.env, vars, options.env),
      token: task.token,
    })],
  });
}
