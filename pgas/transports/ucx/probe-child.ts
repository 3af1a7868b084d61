/**
 * ucxUsable, asked in a fresh node process so that UCX (its threads, its signal handlers) never loads
 * into the asking one: for test runners and benchmark drivers that only decide whether to run ucx.
 */
import { spawnSync } from 'node:child_process';

/** `env` is the child's environment: PGAS_NATIVE_DISABLE and UCX_* variables there count. */
export function ucxUsableInChild(env: NodeJS.ProcessEnv = process.env): { usable: boolean; reason: string } {
  const index = new URL('./index.js', import.meta.url).href;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', `import(${JSON.stringify(index)}).then((m) => console.log(JSON.stringify(m.ucxUsable())))`], { encoding: 'utf8', timeout: 30000, env });
  try {
    return JSON.parse(child.stdout.trim().split('\n').pop() ?? '') as { usable: boolean; reason: string };
  } catch {
    return { usable: false, reason: `the probe failed: ${child.stderr.slice(0, 300)}` };
  }
}
