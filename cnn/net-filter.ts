import type { Phase } from './layer.js';
import type { Msg } from './proto/message.js';

/** The state a net is built for: Caffe's NetState (phase, level, stages). */
export interface NetState {
  phase: Phase;
  level: number;
  stages: readonly string[];
}

/** Caffe's Net::StateMeetsRule for one NetStateRule. */
export function meetsRule(state: NetState, rule: Msg): boolean {
  if (rule.has('phase') && rule.str('phase') !== state.phase) return false;
  if (rule.has('min_level') && state.level < rule.num('min_level')) return false;
  if (rule.has('max_level') && state.level > rule.num('max_level')) return false;
  for (const s of rule.strs('stage')) if (!state.stages.includes(s)) return false;
  for (const s of rule.strs('not_stage')) if (state.stages.includes(s)) return false;
  return true;
}

/**
 * Caffe's Net::FilterNet for one layer: with `include` rules it is kept when any rule is met; otherwise
 * it is dropped when any `exclude` rule is met. Giving both is an error (checked by the caller).
 */
export function layerIncluded(state: NetState, layer: Msg): boolean {
  const include = layer.msgs('include');
  if (include.length > 0) return include.some((r) => meetsRule(state, r));
  return !layer.msgs('exclude').some((r) => meetsRule(state, r));
}
