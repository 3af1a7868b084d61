/**
 * pgas-run's top level: parse, pick the way to start the job (local processes, threads, ssh hosts, or
 * one task of srun/mpirun), run it, and turn what happened into an exit status. Usage and host errors
 * are printed as one "pgas-run: error: ..." message and exit with status 2.
 */
import { parseArgs, HELP } from './args.js';
import { startDashboard } from './dashboard/index.js';
import { capabilities, chooseAutoTransport, formatInfo } from './info.js';
import type { LaunchContext } from './launch-common.js';
import { launchLocal } from './launch-local.js';
import { launchRemote } from './launch-remote.js';
import { launchTask } from './launch-task.js';
import { PACKAGE_ROOT } from './paths.js';
import { resolveProgram } from './program.js';
import { applyCheckpointOptions } from './resume.js';
import { jobToken } from './token.js';

export interface MainIo {
  env: NodeJS.ProcessEnv;
  cwd: string;
  out: (text: string) => void;
  err: (text: string) => void;
}

const defaultIo = (): MainIo => ({
  env: process.env,
  cwd: process.cwd(),
  out: (t) => { process.stdout.write(t); },
  err: (t) => { process.stderr.write(t); },
});

export async function main(argv: readonly string[], io: MainIo = defaultIo()): Promise<number> {
  try {
    const command = parseArgs(argv);
    if (command.kind === 'help') {
      io.out(HELP);
      return 0;
    }
    if (command.kind === 'info') {
      io.out(formatInfo(await capabilities(PACKAGE_ROOT)));
      return 0;
    }
    const options = applyCheckpointOptions(command.options, io.cwd);
    if (options.transport === 'auto') {
      const choice = await chooseAutoTransport(PACKAGE_ROOT);
      io.err(`pgas-run: ${choice.note}\n`);
      options.transport = choice.transport;
    }
    const program = resolveProgram(options.program, io.cwd, PACKAGE_ROOT);
    const dashboard = options.dashboardPort === undefined ? undefined : await startDashboard(options, io.err);
    const ctx: LaunchContext = {
      options,
      env: io.env,
      cwd: io.cwd,
      program,
      node: process.execPath,
      observer: dashboard?.observer,
    };
    try {
      let report;
      if (options.ranks === undefined) report = await launchTask(ctx);
      else if (options.hostfile !== undefined) report = await launchRemote(ctx, jobToken(options.tokenFile, io.env));
      else report = await launchLocal(ctx, jobToken(options.tokenFile, io.env));
      await dashboard?.finish(report);
      return report.exitCode;
    } finally {
      dashboard?.close();
    }
  } catch (err) {
    const e = err as Error & { exitCode?: number };
    if (typeof e.exitCode === 'number') {
      io.err(`pgas-run: error: ${e.message}\n`);
      return e.exitCode;
    }
    io.err(`pgas-run: internal error: ${e.stack ?? String(e)}\n`);
    return 1;
  }
}
