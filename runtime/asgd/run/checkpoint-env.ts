import type { CheckpointConfig, SolverConfig } from '../config.js';
import { InvalidOptionError } from '../errors.js';

/**
 * The launcher's side of checkpoints (pgas-run --checkpoint-dir DIR / --resume DIR) reaches the solver
 * through the environment, so that every program built on createSolver takes part without a flag of
 * its own:
 *
 *   PGAS_CHECKPOINT_DIR              where rank r writes rank-r.ckpt (overrides checkpoint.dir)
 *   PGAS_RESUME=1                    continue from the checkpoints there (pgas-run --resume)
 *   PGAS_CHECKPOINT_EVERY_STEPS=N    how often, when the program's config does not say
 *   PGAS_CHECKPOINT_EVERY_SECONDS=S  (default when neither is said anywhere: every 60 s)
 *
 * Without PGAS_CHECKPOINT_DIR the config is returned unchanged.
 */
export function withCheckpointEnv(config: SolverConfig, env: NodeJS.ProcessEnv = process.env): SolverConfig {
  const dir = env.PGAS_CHECKPOINT_DIR;
  if (dir === undefined || dir === '') return config;
  const given: Partial<CheckpointConfig> = config.checkpoint ?? {};
  const steps = positive('PGAS_CHECKPOINT_EVERY_STEPS', env.PGAS_CHECKPOINT_EVERY_STEPS, true);
  const seconds = positive('PGAS_CHECKPOINT_EVERY_SECONDS', env.PGAS_CHECKPOINT_EVERY_SECONDS, false);
  const said = given.everySteps !== undefined || given.everySeconds !== undefined;
  return {
    ...config,
    checkpoint: {
      ...given,
      dir,
      resume: env.PGAS_RESUME === '1' || given.resume === true,
      ...(steps !== undefined ? { everySteps: steps } : {}),
      ...(seconds !== undefined ? { everySeconds: seconds } : {}),
      ...(!said && steps === undefined && seconds === undefined ? { everySeconds: 60 } : {}),
    },
  };
}

function positive(name: string, raw: string | undefined, integer: boolean): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new InvalidOptionError(name, `must be a positive ${integer ? 'whole ' : ''}number, got '${raw}'`);
  }
  return n;
}
