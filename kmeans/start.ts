/**
 * The default K-Means job (`npm start`): ASGD across 2 local ranks started by pgas-run, on 60 M
 * synthetic points in 10 dimensions drawn around 100 true centres (2.4 GB as float32, generated on
 * the fly and never stored), one pass, printing progress and a summary that says whether it found the
 * clusters. About a minute on a 2-core machine. Extra arguments go to the kmeans command, after the
 * defaults (so `npm start -- --size 10M` is a shorter run).
 *
 * Uses the uws transport (one process per rank) when it is built, else rank threads of one process.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const launcher = `${root}bin/pgas-run.js`;
const cli = fileURLToPath(new URL('./cli.js', import.meta.url));
const uws = existsSync(fileURLToPath(new URL('../pgas/transports/uws/index.js', import.meta.url)));
const defaults = ['--size', '60M', '--dim', '10', '--k-true', '100', '--k', '100', '--solver', 'asgd', '--batch', '4096', '--seed', '1'];
const extra = process.argv.slice(2);
// A flag given in `extra` replaces its default (the kmeans command refuses a flag given twice).
const overridden = new Set(extra.filter((a) => a.startsWith('--')).map((a) => a.split('=')[0]));
const args: string[] = [];
for (let i = 0; i < defaults.length; i += 2) if (!overridden.has(defaults[i]!)) args.push(defaults[i]!, defaults[i + 1]!);
args.push(...extra);

process.stdout.write(
  'npm start: K-Means by asynchronous SGD (Keuper & Pfreundt) on 2 local ranks.\n' +
  '  Every rank generates its own half of a synthetic data set from (seed, index) alone, trains its copy\n' +
  '  of the centres on mini-batches, and after each step writes its state into the other rank\'s inbox;\n' +
  '  a received state is merged only when the Parzen window says it helps.\n' +
  `  pgas-run -n 2${uws ? '' : ' --transport threads'} kmeans ${args.join(' ')}\n\n`,
);
const child = spawn(process.execPath, [launcher, '-n', '2', ...(uws ? [] : ['--transport', 'threads']), cli, ...args], { stdio: 'inherit' });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
