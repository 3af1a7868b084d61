/**
 * Where the launcher's own files are. This module compiles to dist/runtime/launcher/paths.js, so the
 * package root is three levels up; remote hosts use the same absolute paths (a shared file system, as
 * gaspi_run and mpirun assume).
 */
import { fileURLToPath } from 'node:url';

export const PACKAGE_ROOT = fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/$/, '');
export const REMOTE_SHIM = fileURLToPath(new URL('./remote-shim.js', import.meta.url));
