/**
 * Entry point of the pgas-run command (bin/pgas-run.js imports this module). process.exit at the end:
 * nothing of the job may keep the launcher alive after its ranks are gone, and on Linux writes to
 * pipes and files are synchronous, so no output is lost.
 */
import { main } from './main.js';

// `pgas-run ... | head` closes our stdout early: keep running the job (and stopping it properly)
// rather than dying on EPIPE with the ranks left behind.
process.stdout.on('error', () => {});
process.stderr.on('error', () => {});

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`pgas-run: internal error: ${String(err)}\n`);
    process.exit(1);
  },
);
