/**
 * What every way of starting a job shares: the resolved program, the output sink, and the start-up
 * settings that flags give or, failing that, the launcher's own PGAS_* environment (so that an exported
 * PGAS_STARTUP_TIMEOUT_MS reaches remote ranks too, which do not inherit our environment).
 */
import type { LaunchOptions } from './args.js';
import { UsageError } from './errors.js';
import { directorySink, terminalSink, type OutputSink } from './output.js';
import type { JobObserver } from './job.js';
import type { ResolvedProgram } from './program.js';

export interface LaunchContext {
  options: LaunchOptions;
  env: NodeJS.ProcessEnv;
  cwd: string;
  program: ResolvedProgram;
  /** the node binary ranks run with: the one running pgas-run, on every host */
  node: string;
  /** watches the ranks (the dashboard), when there is one */
  observer?: JobObserver;
}

function envMs(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d+$/.test(raw)) throw new UsageError(`${name} must be a whole number of milliseconds, got '${raw}'`);
  return Number(raw);
}

export function startupSettings(ctx: LaunchContext): { startupTimeoutMs: number | undefined; heartbeatMs: number | undefined } {
  return {
    startupTimeoutMs: ctx.options.startupTimeoutMs ?? envMs(ctx.env, 'PGAS_STARTUP_TIMEOUT_MS'),
    heartbeatMs: ctx.options.heartbeatMs ?? envMs(ctx.env, 'PGAS_HEARTBEAT_MS'),
  };
}

export function outputSink(options: LaunchOptions): OutputSink {
  if (options.outputDir === undefined) return terminalSink();
  try {
    return directorySink(options.outputDir);
  } catch (err) {
    throw new UsageError(`cannot use --output-dir ${options.outputDir}: ${(err as Error).message}`);
  }
}
