#!/usr/bin/env node
// cnn: train and test Caffe-style nets (`cnn train --solver FILE [--weights FILE] [--snapshot FILE]`,
// `cnn test`, `cnn info`; see cnn/cli.ts). Under pgas-run every rank runs this and trains through the
// numeric core. The command is TypeScript compiled to dist/.
import { runCli } from '../dist/cnn/cli.js';

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`cnn: ${error?.stack ?? error}\n`);
    process.exitCode = 1;
  },
);
