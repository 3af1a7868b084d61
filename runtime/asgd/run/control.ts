import type { ResolvedSolverConfig } from '../config.js';

export type StopReason = 'steps' | 'samples' | 'epochs' | 'seconds' | 'targetLoss' | 'targetScore';

/**
 * The stop conditions of a run (the first one reached ends it). Budgets are checked every step;
 * targets only when an evaluation happened.
 */
export class StopControl {
  private readonly started = performance.now();

  constructor(private readonly stop: ResolvedSolverConfig['stop'], private readonly partitionSize: number) {}

  /** seconds since the run started */
  elapsed(): number {
    return (performance.now() - this.started) / 1000;
  }

  budget(step: number, samples: number): StopReason | null {
    const s = this.stop;
    if (step >= s.steps) return 'steps';
    if (samples >= s.samples) return 'samples';
    if (samples >= s.epochs * this.partitionSize) return 'epochs';
    if (s.seconds !== Infinity && this.elapsed() >= s.seconds) return 'seconds';
    return null;
  }

  target(loss: number, score: number | undefined): StopReason | null {
    const s = this.stop;
    if (s.targetLoss !== undefined && loss <= s.targetLoss) return 'targetLoss';
    if (s.targetScore !== undefined && score !== undefined && score >= s.targetScore) return 'targetScore';
    return null;
  }

  /** an evaluation is due after `step` steps */
  evalDue(step: number): boolean {
    return this.stop.evalEvery > 0 && step % this.stop.evalEvery === 0;
  }
}

export const STOP_REASONS: readonly StopReason[] = ['steps', 'samples', 'epochs', 'seconds', 'targetLoss', 'targetScore'];
