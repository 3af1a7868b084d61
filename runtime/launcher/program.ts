/**
 * Resolve PROGRAM: a JavaScript file, a TypeScript file (run as its compiled counterpart under dist/,
 * because ranks run plain node without a TypeScript loader), or a registered application name.
 * The result is an absolute path, so that it means the same on every host of a shared file system.
 */
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { APPS } from './apps.js';
import { UsageError } from './errors.js';

export interface ResolvedProgram {
  /** absolute path of the module node runs */
  path: string;
  /** what the user wrote, for messages */
  spec: string;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** dist/<path relative to root>.js for a .ts file under root, or undefined when it is outside root. */
function compiledCounterpart(tsPath: string, root: string): string | undefined {
  const rel = relative(root, tsPath);
  if (rel.startsWith('..') || isAbsolute(rel)) return undefined;
  return join(root, 'dist', rel.replace(/\.(m|c)?ts$/, (_m, p: string | undefined) => `.${p ?? ''}js`));
}

export function resolveProgram(
  spec: string,
  cwd: string,
  packageRoot: string,
  apps: Readonly<Record<string, string>> = APPS,
): ResolvedProgram {
  const asPath = resolve(cwd, spec);
  if (/\.(m|c)?ts$/.test(spec)) {
    // Prefer dist/ under the working directory's project, then under this package.
    const candidates = [compiledCounterpart(asPath, cwd), compiledCounterpart(asPath, packageRoot)]
      .filter((c): c is string => c !== undefined);
    for (const c of candidates) if (isFile(c)) return { path: c, spec };
    if (candidates.length === 0) {
      throw new UsageError(`${spec} is TypeScript outside this project; compile it and pass the .js file`);
    }
    throw new UsageError(
      `${spec} is TypeScript and its compiled counterpart ${candidates.join(' or ')} does not exist; ` +
        'run npx tsc -p tsconfig.json (or pass a .js file)',
    );
  }
  if (isFile(asPath)) return { path: asPath, spec };
  const app = apps[spec];
  if (app !== undefined) {
    const path = join(packageRoot, app);
    if (!existsSync(path)) {
      throw new UsageError(`application '${spec}' is registered as ${app}, which does not exist; run npm run build`);
    }
    return { path, spec };
  }
  const known = Object.keys(apps);
  throw new UsageError(
    `PROGRAM '${spec}' is neither a file nor an application name` +
      (known.length ? ` (applications: ${known.join(', ')})` : ' (no applications are registered yet)'),
  );
}
