import type { SolverEvent } from './solver/solver.js';

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** One line per event, in the spirit of Caffe's log (iteration, loss, rate, images/s, ETA). */
export function formatEvent(e: SolverEvent, maxIter: number): string {
  switch (e.kind) {
    case 'train': {
      const pct = maxIter > 0 ? ` (${((100 * e.iter) / maxIter).toFixed(1)}%)` : '';
      const speed = e.imagesPerSecond > 0 ? `, ${e.imagesPerSecond.toFixed(0)} images/s, ETA ${formatDuration(e.etaSeconds)}` : '';
      return `Iteration ${e.iter}${pct}, loss = ${e.smoothedLoss.toPrecision(4)}, lr = ${e.lr.toPrecision(4)}${speed}`;
    }
    case 'test': {
      const outs = e.outputs.map((o) => {
        const v = o.values.length === 1 ? o.values[0]!.toFixed(4) : `[${o.values.map((x) => x.toFixed(4)).join(', ')}]`;
        return o.lossWeight !== 0 ? `${o.name} = ${v} (* ${o.lossWeight} = ${(o.values[0]! * o.lossWeight).toFixed(4)} loss)` : `${o.name} = ${v}`;
      });
      return `Iteration ${e.iter}, test net #${e.net}: ${outs.join(', ')} [${e.seconds.toFixed(1)} s]`;
    }
    case 'snapshot':
      return `Snapshot at iteration ${e.iter}: ${e.weights}, ${e.state}`;
  }
}
