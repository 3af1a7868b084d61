/**
 * The PyTorch LeNet baseline measured in the same run as our own figures (bench/baselines/
 * pytorch_lenet.py), so that "at least PyTorch's throughput" is judged as a ratio on this host and
 * at this load rather than against a figure taken elsewhere. Needs Debian's python3-torch; without it
 * the caller gets the reason and keeps the quoted reference.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface PytorchLenet {
  torch: string;
  threads: number;
  batch: number;
  /** training images/s, wall clock */
  train: number;
  /** training images per CPU-second of the process (less sensitive to other load) */
  trainPerCpuSecond: number;
  inference: number;
}

const SCRIPT = fileURLToPath(new URL('../../../bench/baselines/pytorch_lenet.py', import.meta.url));

/** Runs the baseline for `seconds` of training; returns the figures, or a reason why it could not run. */
export function measurePytorchLenet(seconds: number): PytorchLenet | { skipped: string } {
  // Debian's python3-torch belongs to the system interpreter, which a pyenv shim on PATH may hide.
  const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  const run = spawnSync(python, [SCRIPT, String(seconds)], {
    encoding: 'utf8',
    timeout: (seconds * 3 + 60) * 1000,
    // one thread, as the reference was taken: keep OpenMP/MKL from starting more
    env: { ...process.env, OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' },
  });
  if (run.error) return { skipped: `${python} could not run (${run.error.message})` };
  if (run.status !== 0) {
    const why = /No module named 'torch'/.test(run.stderr) ? 'PyTorch is not installed (apt-get install python3-torch)' : run.stderr.trim().split('\n').pop() ?? `exit ${run.status}`;
    return { skipped: why };
  }
  const line = run.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as PytorchLenet;
  } catch {
    return { skipped: `unexpected output from ${SCRIPT}: ${line.slice(0, 200)}` };
  }
}
