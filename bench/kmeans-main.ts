/**
 * Standalone entry of the K-Means benchmarks until bench/cli.ts dispatches `kmeans` to runKmeansBench:
 *   node dist/bench/kmeans-main.js [--quick] [--quality] [--ranks N] [--json FILE]
 */
import { writeFileSync } from 'node:fs';
import { formatKmeansTable, runKmeansBench, type KmeansBenchOptions } from './kmeans.js';

const argv = process.argv.slice(2);
const options: KmeansBenchOptions = { log: (line) => process.stderr.write(`${line}\n`) };
let json: string | undefined;
for (let i = 0; i < argv.length; i++) {
  const a = argv[i]!;
  if (a === '--quick') options.quick = true;
  else if (a === '--quality') options.quality = true;
  else if (a === '--ranks') options.ranks = Number(argv[++i]);
  else if (a === '--json') json = argv[++i];
  else {
    process.stderr.write(`kmeans bench: unknown argument '${a}' (--quick, --quality, --ranks N, --json FILE)\n`);
    process.exit(2);
  }
}
const records = await runKmeansBench(options);
process.stdout.write(`${formatKmeansTable(records)}\n`);
if (json !== undefined) writeFileSync(json, `${JSON.stringify(records, null, 1)}\n`);
