import { PeerDeadError, type PgasContext } from '../../pgas/index.js';
import { RankLostError } from './errors.js';
import { withCheckpointEnv } from './run/checkpoint-env.js';
import { validateSolverConfig, type ResolvedSolverConfig, type SolverConfig, type SolverName } from './config.js';
import { withMetricsFeed } from './run/feed.js';
import { runAsgd } from './solvers/asgd.js';
import type { ProblemSource, RunHooks, RunResult } from './solvers/types.js';

type SolverRun = <B>(ctx: PgasContext, config: ResolvedSolverConfig, source: ProblemSource<B>, hooks?: RunHooks) => Promise<RunResult>;

const RUNNERS: Record<SolverName, () => Promise<SolverRun>> = {
  asgd: async () => runAsgd,
  simuparallel: async () => (await import('./solvers/simuparallel.js')).runSimuParallel,
  sync: async () => (await import('./solvers/sync.js')).runSync,
  hogwild: async () => (await import('./solvers/hogwild.js')).runHogwild,
  paramserver: async () => (await import('./solvers/paramserver.js')).runParamServer,
  distnewton: async () => (await import('./solvers/distnewton.js')).runDistNewton,
};

/** A validated solver, ready to run on any number of ranks. */
export interface Solver {
  readonly config: ResolvedSolverConfig;
  /** Collective: every rank of the job calls it with the same configuration. */
  run<B>(ctx: PgasContext, problem: ProblemSource<B>, hooks?: RunHooks): Promise<RunResult>;
}

/**
 * The solver factory: validates the whole configuration (unknown names, incompatible combinations,
 * non-finite hyper-parameters all throw here, before any rank trains) and returns a runnable solver.
 */
export function createSolver(config: SolverConfig): Solver {
  const resolved = validateSolverConfig(withCheckpointEnv(config));
  return {
    config: resolved,
    async run<B>(ctx: PgasContext, problem: ProblemSource<B>, hooks?: RunHooks): Promise<RunResult> {
      const runner = await RUNNERS[resolved.solver]();
      let step: number | null = null;
      const observed: RunHooks = { ...hooks, onStep: (s, p, c) => { step = s; hooks?.onStep?.(s, p, c); } };
      try {
        return await runner(ctx, resolved, problem, withMetricsFeed(ctx, resolved, observed));
      } catch (error) {
        // asgd ends over the survivors itself; for every other solver a lost rank ends the run
        if (error instanceof PeerDeadError) throw new RankLostError(resolved.solver, error.peer, step, error);
        throw error;
      }
    },
  };
}

/** createSolver(config).run(ctx, problem) */
export function runSolver<B>(ctx: PgasContext, config: SolverConfig, problem: ProblemSource<B>, hooks?: RunHooks): Promise<RunResult> {
  return createSolver(config).run(ctx, problem, hooks);
}
