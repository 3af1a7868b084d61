// Reads ava's TAP output and prints the closing line CI looks for: "N passed, N failed[, N skipped]".
import { readFileSync } from 'node:fs';

const text = readFileSync(process.argv[2], 'utf8');
let passed = 0;
let failed = 0;
let skipped = 0;
for (const line of text.split('\n')) {
  if (/^ok \d+/.test(line)) {
    if (/# SKIP/i.test(line)) skipped++;
    else passed++;
  } else if (/^not ok \d+/.test(line)) {
    if (/# TODO/i.test(line)) skipped++;
    else failed++;
  }
}
// A type-check or build failure runs no test at all: count it as a failure so it cannot look green.
if (passed + failed + skipped === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
