/**
 * The one line the remote shim writes last on stderr: the program's real exit, which ssh itself cannot
 * report (a remote signal death and an ssh failure both make ssh exit 255). In its own module because
 * remote-shim.js is an entry point and must not be imported by the launcher.
 */
export const SHIM_EXIT_MARKER = '@@pgas-remote-shim-exit@@ ';

export interface ShimExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: string;
}

/** The exit a marker line carries, or undefined when the line is ordinary output. */
export function parseShimExit(line: string): ShimExit | undefined {
  if (!line.startsWith(SHIM_EXIT_MARKER)) return undefined;
  try {
    const v = JSON.parse(line.slice(SHIM_EXIT_MARKER.length)) as ShimExit;
    return { code: v.code ?? null, signal: v.signal ?? null, ...(v.error ? { error: v.error } : {}) };
  } catch {
    return undefined;
  }
}
