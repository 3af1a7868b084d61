import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../cnn/cli.js';
import { parseCliArgs } from '../cnn/cli-args.js';
import { lenetText, tempDir, writeSyntheticIdx } from './fixtures/cnn-data.js';

const dir = tempDir('cnn-cli-');
const train = writeSyntheticIdx(dir, 'train', 256, { seed: 5 });
const testSet = writeSyntheticIdx(dir, 't10k', 64, { seed: 6 });
writeFileSync(join(dir, 'net.prototxt'), lenetText(train, testSet, 16, 32));
writeFileSync(join(dir, 'solver.prototxt'), `net: "net.prototxt"
test_iter: 2
test_interval: 5
base_lr: 0.01
momentum: 0.9
weight_decay: 0.0005
lr_policy: "inv"
gamma: 0.0001
power: 0.75
display: 2
max_iter: 10
snapshot_prefix: "out/lenet"
`);

function capture(): { io: { out: (l: string) => void; err: (l: string) => void }; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l) => out.push(l), err: (l) => err.push(l) }, out, err };
}

test('cnn train: progress, periodic tests, snapshot, SVG plot; cnn test on the weights', async (t) => {
  const c = capture();
  const code = await runCli(['train', '--solver', join(dir, 'solver.prototxt'), '--plot', join(dir, 'run.svg'), '--json', join(dir, 'events.jsonl'), '--kernels', 'typescript'], c.io);
  t.is(code, 0, c.err.join('\n'));
  t.true(c.out.some((l) => /^Iteration 4 \(40\.0%\), loss = [\d.]+, lr = [\d.]+, \d+ images\/s, ETA \d+s$/.test(l)), c.out.join('\n'));
  t.true(c.out.some((l) => /^Iteration 10, test net #0: accuracy = [\d.]+, loss = [\d.]+ \(\* 1 = [\d.]+ loss\)/.test(l)));
  t.true(c.out.some((l) => l.startsWith('Optimization done: 10 iterations')));
  t.true(existsSync(join(dir, 'out/lenet_iter_10.cnnmodel')));
  const svg = readFileSync(join(dir, 'run.svg'), 'utf8');
  t.true(svg.startsWith('<svg') && svg.includes('test accuracy') && svg.includes('<path'));
  const events = readFileSync(join(dir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { kind: string });
  t.deepEqual([...new Set(events.map((e) => e.kind))].sort(), ['snapshot', 'test', 'train']);
  const r = capture();
  t.is(await runCli(['test', '--solver', join(dir, 'solver.prototxt'), '--weights', join(dir, 'out/lenet_iter_10.cnnmodel')], r.io), 0, r.err.join('\n'));
  t.regex(r.out.join('\n'), /accuracy = [\d.]+\nloss = [\d.]+\n2 batches of 32/);
  // resume from the snapshot to a later max_iter
  const s = capture();
  t.is(await runCli(['train', '--solver', join(dir, 'solver.prototxt'), '--snapshot', join(dir, 'out/lenet_iter_10.cnnstate'), '--max-iter', '12', '--quiet'], s.io), 0, s.err.join('\n'));
  t.true(existsSync(join(dir, 'out/lenet_iter_12.cnnmodel')));
});

test('cnn: usage errors exit 2, definition errors exit 1 with the file', async (t) => {
  t.throws(() => parseCliArgs(['train']), { message: /needs --solver/ });
  t.throws(() => parseCliArgs(['train', '--solver', 'a', '--solver', 'b']), { message: /given twice/ });
  t.throws(() => parseCliArgs(['train', '--solver', 'a', '--kernels', 'gpu']), { message: /--kernels must be/ });
  t.throws(() => parseCliArgs(['test', '--solver', 'a']), { message: /needs --weights/ });
  t.throws(() => parseCliArgs(['fly']), { message: /unknown command 'fly'/ });
  const c = capture();
  t.is(await runCli(['train', '--bogus', '1'], c.io), 2);
  writeFileSync(join(dir, 'broken.prototxt'), 'net: "net.prototxt"\nbase_lr: 0.01\nlr_policy: "fixed"\nmax_iter: 1\nmomentum: fast\n');
  const b = capture();
  t.is(await runCli(['train', '--solver', join(dir, 'broken.prototxt')], b.io), 1);
  t.regex(b.err.join('\n'), /broken\.prototxt:5:11: SolverParameter\.momentum must be a number, got fast/);
});

test('distributed: pgas-run -n 2 trains LeNet with ASGD, each rank on its own partition', (t) => {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  writeFileSync(join(dir, 'dist.prototxt'), readFileSync(join(dir, 'solver.prototxt'), 'utf8').replace('max_iter: 10', 'max_iter: 20').replace('test_interval: 5', 'test_interval: 10').replace('display: 2', 'display: 10').replace('out/lenet', 'dist/lenet'));
  const r = spawnSync(process.execPath, [join(root, 'bin/pgas-run.js'), '-n', '2', '--transport', 'threads', join(root, 'dist/cnn/cli.js'), 'train', '--solver', join(dir, 'dist.prototxt'), '--parallel', 'asgd'], { encoding: 'utf8', timeout: 100_000 });
  t.is(r.status, 0, `${r.stdout}\n${r.stderr}`);
  t.regex(r.stdout, /2 ranks, numeric-core solver asgd, optimizer momentum, 20 steps of 16 per rank/);
  t.regex(r.stdout, /rank 0 step 20, test accuracy = [\d.]+/);
  const acc = Number(/done: 20 steps .* accuracy ([\d.]+)/.exec(r.stdout)?.[1]);
  t.true(acc > 0.5, `accuracy ${acc} after 20 ASGD steps on the synthetic classes`);
  t.true(existsSync(join(dir, 'dist/lenet_rank0_iter_20.cnnmodel')));
});
