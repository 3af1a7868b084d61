/**
 * Standalone entry of the ASGD exchange benchmark until bench/cli.ts dispatches `asgd` to runAsgdBench:
 *   node dist/bench/asgd-main.js [--quick] [--uws] [--skip-busy] [--batch N] [--seconds S] [--ranks N] [--repeats N] [--sizes 1000,1000000] [--json FILE]
 */
import { writeFileSync } from 'node:fs';
import { formatAsgdTable, runAsgdBench, type AsgdBenchOptions } from './asgd.js';

const argv = process.argv.slice(2);
const options: AsgdBenchOptions = { log: (line) => process.stderr.write(`${line}\n`) };
let json: string | undefined;
for (let i = 0; i < argv.length; i++) {
  const a = argv[i]!;
  if (a === '--quick') options.quick = true;
  else if (a === '--uws') options.transport = 'uws';
  else if (a === '--skip-busy') options.busyOutbox = ['wait', 'skip'];
  else if (a === '--batch') options.batch = Number(argv[++i]);
  else if (a === '--seconds') options.seconds = Number(argv[++i]);
  else if (a === '--ranks') options.ranks = Number(argv[++i]);
  else if (a === '--repeats') options.repeats = Number(argv[++i]);
  else if (a === '--sizes') options.sizes = argv[++i]!.split(',').map(Number);
  else if (a === '--json') json = argv[++i];
  else {
    process.stderr.write(`asgd bench: unknown argument '${a}' (--quick, --uws, --skip-busy, --batch N, --seconds S, --ranks N, --repeats N, --sizes a,b, --json FILE)\n`);
    process.exit(2);
  }
}
const records = await runAsgdBench(options);
process.stdout.write(`${formatAsgdTable(records)}\n`);
if (json !== undefined) writeFileSync(json, `${JSON.stringify(records, null, 1)}\n`);
