/** The shared words between runHogwild and its threads. */
export const C_STOP = 0;
/** updates claimed (may overshoot the step budget by the number of threads; the budget caps it) */
export const C_UPDATES = 1;
export const C_SAMPLES = 2;
export const CONTROL_WORDS = 4;

export interface HogwildWorkerData {
  /** the rank's state (its state segment's memory) */
  state: SharedArrayBuffer;
  control: SharedArrayBuffer;
  /** per thread: loss sum, loss count (Float64) */
  losses: SharedArrayBuffer;
  ref: unknown;
  config: unknown;
  thread: number;
  part: number;
  parts: number;
}
