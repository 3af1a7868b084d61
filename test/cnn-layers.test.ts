import test from 'ava';
import { Rng } from '../runtime/asgd/rng.js';
import { Blob } from '../cnn/blob.js';
import { LabelRangeError } from '../cnn/errors.js';
import { poolOutputSize } from '../cnn/layers/pooling.js';
import { checkGradients, distinctBlob, makeLayer, randomBlob } from './fixtures/cnn-gradcheck.js';

const blob = (name: string, shape: number[], values: number[]): Blob => {
  const b = new Blob(name, shape);
  b.data.set(values);
  return b;
};
const close = (t: { true: (c: boolean, m?: string) => void }, actual: ArrayLike<number>, expected: number[], tol = 1e-5): void => {
  for (let i = 0; i < expected.length; i++) t.true(Math.abs(actual[i]! - expected[i]!) <= tol, `[${i}]: ${actual[i]} vs ${expected[i]}`);
};
const forward = (text: string, bottoms: Blob[], tops = 1, phase: 'TRAIN' | 'TEST' = 'TRAIN') => {
  const r = makeLayer(text, bottoms, tops, phase);
  r.layer.forward(bottoms, r.tops);
  return r;
};

// ---- gradient checks (finite differences) ----

const gradCases: [string, () => { text: string; bottoms: Blob[]; tops?: number; check?: number[]; phase?: 'TRAIN' | 'TEST' }][] = [
  ['Convolution', () => ({ text: 'name: "c" type: "Convolution" convolution_param { num_output: 4 kernel_size: 3 weight_filler { type: "gaussian" std: 0.5 } bias_filler { type: "uniform" } }', bottoms: [randomBlob('x', [2, 3, 5, 5], new Rng(1))] })],
  ['Convolution stride/pad', () => ({ text: 'name: "c" type: "Convolution" convolution_param { num_output: 3 kernel_h: 3 kernel_w: 2 stride: 2 pad: 1 weight_filler { type: "xavier" } bias_filler { type: "uniform" } }', bottoms: [randomBlob('x', [2, 2, 5, 6], new Rng(2))] })],
  ['Convolution group', () => ({ text: 'name: "c" type: "Convolution" convolution_param { num_output: 4 kernel_size: 2 group: 2 weight_filler { type: "msra" } }', bottoms: [randomBlob('x', [2, 4, 4, 4], new Rng(3))] })],
  ['Convolution 1x1', () => ({ text: 'name: "c" type: "Convolution" convolution_param { num_output: 3 kernel_size: 1 weight_filler { type: "gaussian" } }', bottoms: [randomBlob('x', [2, 2, 3, 3], new Rng(4))] })],
  ['Convolution dilation', () => ({ text: 'name: "c" type: "Convolution" convolution_param { num_output: 2 kernel_size: 2 dilation: 2 weight_filler { type: "gaussian" } }', bottoms: [randomBlob('x', [1, 2, 5, 5], new Rng(5))] })],
  ['Pooling MAX', () => ({ text: 'name: "p" type: "Pooling" pooling_param { pool: MAX kernel_size: 2 stride: 2 }', bottoms: [distinctBlob('x', [2, 2, 5, 5], new Rng(6))] })],
  ['Pooling MAX pad', () => ({ text: 'name: "p" type: "Pooling" pooling_param { pool: MAX kernel_size: 3 stride: 2 pad: 1 }', bottoms: [distinctBlob('x', [1, 2, 5, 5], new Rng(7))] })],
  ['Pooling AVE pad', () => ({ text: 'name: "p" type: "Pooling" pooling_param { pool: AVE kernel_size: 3 stride: 2 pad: 1 }', bottoms: [randomBlob('x', [2, 2, 5, 5], new Rng(8))] })],
  ['Pooling global AVE', () => ({ text: 'name: "p" type: "Pooling" pooling_param { pool: AVE global_pooling: true }', bottoms: [randomBlob('x', [2, 3, 3, 4], new Rng(9))] })],
  ['InnerProduct', () => ({ text: 'name: "ip" type: "InnerProduct" inner_product_param { num_output: 5 weight_filler { type: "gaussian" } bias_filler { type: "uniform" } }', bottoms: [randomBlob('x', [3, 2, 2, 2], new Rng(10))] })],
  ['InnerProduct transpose', () => ({ text: 'name: "ip" type: "InnerProduct" inner_product_param { num_output: 4 transpose: true weight_filler { type: "gaussian" } }', bottoms: [randomBlob('x', [3, 6], new Rng(11))] })],
  ['ReLU', () => ({ text: 'name: "r" type: "ReLU"', bottoms: [distinctBlob('x', [2, 3, 4], new Rng(12), 0.07)] })],
  ['ReLU leaky', () => ({ text: 'name: "r" type: "ReLU" relu_param { negative_slope: 0.1 }', bottoms: [distinctBlob('x', [2, 3, 4], new Rng(13), 0.07)] })],
  ['Sigmoid', () => ({ text: 'name: "s" type: "Sigmoid"', bottoms: [randomBlob('x', [2, 3, 4], new Rng(14), -3, 3)] })],
  ['TanH', () => ({ text: 'name: "t" type: "TanH"', bottoms: [randomBlob('x', [2, 3, 4], new Rng(15), -2, 2)] })],
  ['LRN', () => ({ text: 'name: "n" type: "LRN" lrn_param { local_size: 3 alpha: 0.5 beta: 0.75 k: 1.5 }', bottoms: [randomBlob('x', [2, 5, 2, 2], new Rng(16))] })],
  ['BatchNorm', () => ({ text: 'name: "bn" type: "BatchNorm"', bottoms: [randomBlob('x', [4, 3, 2, 2], new Rng(17), -2, 2)] })],
  ['BatchNorm global', () => ({ text: 'name: "bn" type: "BatchNorm" batch_norm_param { use_global_stats: true }', bottoms: [randomBlob('x', [2, 3, 2, 2], new Rng(18))] })],
  ['Scale', () => ({ text: 'name: "s" type: "Scale" scale_param { bias_term: true filler { type: "uniform" min: 0.5 max: 2 } bias_filler { type: "uniform" } }', bottoms: [randomBlob('x', [2, 3, 2, 2], new Rng(19))] })],
  ['Concat', () => ({ text: 'name: "c" type: "Concat"', bottoms: [randomBlob('a', [2, 2, 3], new Rng(20)), randomBlob('b', [2, 1, 3], new Rng(21))] })],
  ['Flatten', () => ({ text: 'name: "f" type: "Flatten"', bottoms: [randomBlob('x', [2, 3, 2, 2], new Rng(22))] })],
  ['Eltwise SUM', () => ({ text: 'name: "e" type: "Eltwise" eltwise_param { operation: SUM coeff: 2 coeff: -0.5 }', bottoms: [randomBlob('a', [2, 3], new Rng(23)), randomBlob('b', [2, 3], new Rng(24))] })],
  ['Eltwise PROD', () => ({ text: 'name: "e" type: "Eltwise" eltwise_param { operation: PROD }', bottoms: [randomBlob('a', [2, 3], new Rng(25)), randomBlob('b', [2, 3], new Rng(26)), randomBlob('c', [2, 3], new Rng(27))] })],
  ['Eltwise MAX', () => {
    // b differs from a by ±0.1 everywhere: no ties within a finite-difference step
    const a = distinctBlob('a', [2, 3], new Rng(28));
    const b = blob('b', [2, 3], Array.from(a.data.subarray(0, 6), (v, i) => v + (i % 2 === 0 ? 0.1 : -0.1)));
    return { text: 'name: "e" type: "Eltwise" eltwise_param { operation: MAX }', bottoms: [a, b] };
  }],
  ['Softmax', () => ({ text: 'name: "s" type: "Softmax"', bottoms: [randomBlob('x', [2, 4, 3], new Rng(30), -2, 2)] })],
  ['SoftmaxWithLoss', () => ({ text: 'name: "l" type: "SoftmaxWithLoss"', bottoms: [randomBlob('x', [4, 5], new Rng(31), -2, 2), blob('y', [4], [0, 4, 2, 1])], check: [0] })],
  ['SoftmaxWithLoss spatial ignore', () => ({ text: 'name: "l" type: "SoftmaxWithLoss" loss_param { ignore_label: 1 }', bottoms: [randomBlob('x', [2, 3, 2], new Rng(32), -2, 2), blob('y', [2, 2], [0, 1, 2, 2])], check: [0] })],
  ['EuclideanLoss', () => ({ text: 'name: "l" type: "EuclideanLoss"', bottoms: [randomBlob('a', [3, 4], new Rng(33)), randomBlob('b', [3, 4], new Rng(34))] })],
  ['SigmoidCrossEntropyLoss', () => ({ text: 'name: "l" type: "SigmoidCrossEntropyLoss"', bottoms: [randomBlob('x', [3, 4], new Rng(35), -3, 3), randomBlob('t', [3, 4], new Rng(36), 0, 1)], check: [0] })],
];

for (const [name, make] of gradCases) {
  test(`gradient check: ${name}`, (t) => {
    const c = make();
    const { layer, tops } = makeLayer(c.text, c.bottoms, c.tops ?? 1, c.phase ?? 'TRAIN');
    const r = checkGradients(layer, c.bottoms, tops, { bottoms: c.check });
    t.true(r.checked > 0);
    t.deepEqual(r.failures, [], `worst relative error ${r.worst}`);
  });
}

test('gradient check: Dropout (fixed mask)', (t) => {
  const x = randomBlob('x', [3, 4], new Rng(40));
  const { layer, tops } = makeLayer('name: "d" type: "Dropout" dropout_param { dropout_ratio: 0.3 }', [x]);
  const saved = layer.ctx.rng.saveState();
  const r = checkGradients(layer, [x], tops, { beforeForward: () => layer.ctx.rng.restoreState(saved) });
  t.deepEqual(r.failures, []);
});

test('the gradient checker catches a wrong backward', (t) => {
  const x = randomBlob('x', [2, 3], new Rng(41), -2, 2);
  const { layer, tops } = makeLayer('name: "t" type: "TanH"', [x]);
  const original = layer.backward.bind(layer);
  layer.backward = (top, pd, bottom) => {
    original(top, pd, bottom);
    bottom[0]!.diff[1] *= 1.1;
  };
  t.true(checkGradients(layer, [x], tops).failures.length > 0);
});

// ---- hand-computed forward cases ----

test('Convolution forward by hand: 2×2 kernel, bias', (t) => {
  const x = blob('x', [1, 1, 3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const { layer, tops } = makeLayer('name: "c" type: "Convolution" convolution_param { num_output: 1 kernel_size: 2 bias_filler { type: "constant" value: 1 } }', [x]);
  layer.blobs[0]!.data.set([1, 0, 0, 1]);
  layer.forward([x], tops);
  t.deepEqual(tops[0]!.shape, [1, 1, 2, 2]);
  close(t, tops[0]!.data, [7, 9, 13, 15]);
});

test('Convolution forward by hand: pad 1, stride 2', (t) => {
  const x = blob('x', [1, 1, 3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const { layer, tops } = makeLayer('name: "c" type: "Convolution" convolution_param { num_output: 1 kernel_size: 3 pad: 1 stride: 2 bias_term: false }', [x]);
  layer.blobs[0]!.data.fill(1);
  layer.forward([x], tops);
  t.deepEqual(tops[0]!.shape, [1, 1, 2, 2]);
  // windows centred on the corners: sums of the 2×2 corner blocks
  close(t, tops[0]!.data, [1 + 2 + 4 + 5, 2 + 3 + 5 + 6, 4 + 5 + 7 + 8, 5 + 6 + 8 + 9]);
});

test('Convolution forward by hand: groups keep channels apart', (t) => {
  const x = blob('x', [1, 2, 1, 2], [1, 2, 10, 20]);
  const { layer, tops } = makeLayer('name: "c" type: "Convolution" convolution_param { num_output: 2 kernel_size: 1 group: 2 bias_term: false }', [x]);
  t.deepEqual(layer.blobs[0]!.shape, [2, 1, 1, 1]);
  layer.blobs[0]!.data.set([2, 3]);
  layer.forward([x], tops);
  close(t, tops[0]!.data, [2, 4, 30, 60]);
});

test("Pooling: Caffe's output-size rule", (t) => {
  t.is(poolOutputSize(28, 2, 0, 2), 14);
  t.is(poolOutputSize(24, 2, 0, 2), 12);
  t.is(poolOutputSize(5, 2, 0, 2), 3); // ceil: the last window hangs over the edge
  t.is(poolOutputSize(5, 2, 0, 2, 'FLOOR'), 2);
  t.is(poolOutputSize(6, 3, 1, 2), 4);
  t.is(poolOutputSize(1, 2, 1, 2), 1); // a window starting in the padding is dropped
  t.is(poolOutputSize(13, 3, 0, 2), 6); // AlexNet pool5
  const x = randomBlob('x', [1, 1, 5, 5], new Rng(1));
  const { tops } = makeLayer('name: "p" type: "Pooling" pooling_param { pool: MAX kernel_size: 2 stride: 2 }', [x]);
  t.deepEqual(tops[0]!.shape, [1, 1, 3, 3]);
});

test('Pooling MAX and AVE forward by hand', (t) => {
  const x = blob('x', [1, 1, 4, 4], [1, 5, 2, 0, 3, 4, 8, 1, 0, 0, 1, 1, 9, 2, 1, 7]);
  const max = forward('name: "p" type: "Pooling" pooling_param { pool: MAX kernel_size: 2 stride: 2 }', [x]);
  close(t, max.tops[0]!.data, [5, 8, 9, 7]);
  const ave = forward('name: "p" type: "Pooling" pooling_param { pool: AVE kernel_size: 2 stride: 2 }', [x]);
  close(t, ave.tops[0]!.data, [13 / 4, 11 / 4, 11 / 4, 10 / 4]);
  // AVE with padding divides by the padded window, as Caffe does
  const y = blob('y', [1, 1, 3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const pad = forward('name: "p" type: "Pooling" pooling_param { pool: AVE kernel_size: 3 stride: 1 pad: 1 }', [y]);
  t.deepEqual(pad.tops[0]!.shape, [1, 1, 3, 3]);
  close(t, pad.tops[0]!.data, [(1 + 2 + 4 + 5) / 9, (1 + 2 + 3 + 4 + 5 + 6) / 9], 1e-6);
});

test('InnerProduct forward by hand', (t) => {
  const x = blob('x', [1, 2], [1, 2]);
  const { layer, tops } = makeLayer('name: "ip" type: "InnerProduct" inner_product_param { num_output: 3 bias_filler { type: "constant" value: 1 } }', [x]);
  t.deepEqual(layer.blobs[0]!.shape, [3, 2]);
  layer.blobs[0]!.data.set([1, 2, 3, 4, 5, 6]);
  layer.forward([x], tops);
  close(t, tops[0]!.data, [6, 12, 18]);
});

test('ReLU, Sigmoid, TanH forward by hand', (t) => {
  const x = blob('x', [3], [-2, 0, 3]);
  close(t, forward('name: "r" type: "ReLU" relu_param { negative_slope: 0.1 }', [x]).tops[0]!.data, [-0.2, 0, 3]);
  close(t, forward('name: "r" type: "ReLU"', [x]).tops[0]!.data, [0, 0, 3]);
  close(t, forward('name: "s" type: "Sigmoid"', [x]).tops[0]!.data, [1 / (1 + Math.exp(2)), 0.5, 1 / (1 + Math.exp(-3))]);
  close(t, forward('name: "t" type: "TanH"', [x]).tops[0]!.data, [Math.tanh(-2), 0, Math.tanh(3)]);
});

test('ReLU in place', (t) => {
  const x = blob('x', [4], [-1, 2, -3, 4]);
  const { layer } = makeLayer('name: "r" type: "ReLU"', [x]);
  layer.forward([x], [x]);
  close(t, x.data, [0, 2, 0, 4]);
  x.diff.set([1, 1, 1, 1]);
  layer.backward([x], [true], [x]);
  close(t, x.diff, [0, 1, 0, 1]);
});

test('Dropout: identity at test time, inverted scaling at training time', (t) => {
  const x = new Blob('x', [10000]);
  x.data.fill(1);
  close(t, forward('name: "d" type: "Dropout"', [x], 1, 'TEST').tops[0]!.data, [1, 1, 1]);
  const train = forward('name: "d" type: "Dropout" dropout_param { dropout_ratio: 0.25 }', [x]).tops[0]!;
  let kept = 0;
  for (let i = 0; i < 10000; i++) {
    const v = train.data[i]!;
    t.true(v === 0 || Math.abs(v - 4 / 3) < 1e-6);
    if (v !== 0) kept++;
  }
  t.true(Math.abs(kept / 10000 - 0.75) < 0.02, `kept ${kept}`);
});

test('LRN forward by hand', (t) => {
  const x = blob('x', [1, 3, 1, 1], [1, 2, 3]);
  const y = forward('name: "n" type: "LRN" lrn_param { local_size: 3 alpha: 1 beta: 0.75 k: 1 }', [x]).tops[0]!;
  close(t, y.data, [1 * Math.pow(1 + 5 / 3, -0.75), 2 * Math.pow(1 + 14 / 3, -0.75), 3 * Math.pow(1 + 13 / 3, -0.75)]);
});

test('BatchNorm forward by hand, running statistics, then global stats', (t) => {
  const x = blob('x', [4, 1, 1, 1], [1, 2, 3, 4]);
  const { layer, tops } = makeLayer('name: "bn" type: "BatchNorm" batch_norm_param { eps: 0 }', [x]);
  layer.forward([x], tops);
  const sd = Math.sqrt(1.25);
  close(t, tops[0]!.data, [-1.5 / sd, -0.5 / sd, 0.5 / sd, 1.5 / sd]);
  close(t, layer.blobs[0]!.data, [2.5]);
  close(t, layer.blobs[1]!.data, [(4 / 3) * 1.25]);
  close(t, layer.blobs[2]!.data, [1]);
  t.is(layer.paramMults(0).lrMult, 0);
  t.false(layer.learnable(0));
  const test1 = makeLayer('name: "bn" type: "BatchNorm" batch_norm_param { eps: 0 }', [x], 1, 'TEST');
  test1.layer.blobs.forEach((b, i) => b.data.set(layer.blobs[i]!.data.subarray(0, b.count)));
  test1.layer.forward([x], test1.tops);
  const sdu = Math.sqrt((4 / 3) * 1.25);
  close(t, test1.tops[0]!.data, [-1.5 / sdu, -0.5 / sdu, 0.5 / sdu, 1.5 / sdu]);
});

test('Scale forward by hand (default γ = 1, then filler)', (t) => {
  const x = blob('x', [1, 2, 1, 2], [1, 2, 3, 4]);
  close(t, forward('name: "s" type: "Scale"', [x]).tops[0]!.data, [1, 2, 3, 4]);
  const r = forward('name: "s" type: "Scale" scale_param { bias_term: true filler { type: "constant" value: 2 } bias_filler { type: "constant" value: 0.5 } }', [x]);
  close(t, r.tops[0]!.data, [2.5, 4.5, 6.5, 8.5]);
});

test('Concat, Flatten, Eltwise forward by hand', (t) => {
  const a = blob('a', [1, 1, 2], [1, 2]);
  const b = blob('b', [1, 2, 2], [3, 4, 5, 6]);
  const c = forward('name: "c" type: "Concat"', [a, b]).tops[0]!;
  t.deepEqual(c.shape, [1, 3, 2]);
  close(t, c.data, [1, 2, 3, 4, 5, 6]);
  const f = forward('name: "f" type: "Flatten"', [new Blob('x', [2, 3, 2, 2])]).tops[0]!;
  t.deepEqual(f.shape, [2, 12]);
  const p = blob('p', [3], [1, -2, 3]);
  const q = blob('q', [3], [2, 5, -1]);
  close(t, forward('name: "e" type: "Eltwise" eltwise_param { coeff: 1 coeff: -1 }', [p, q]).tops[0]!.data, [-1, -7, 4]);
  close(t, forward('name: "e" type: "Eltwise" eltwise_param { operation: PROD }', [p, q]).tops[0]!.data, [2, -10, -3]);
  close(t, forward('name: "e" type: "Eltwise" eltwise_param { operation: MAX }', [p, q]).tops[0]!.data, [2, 5, 3]);
});

test('Softmax and SoftmaxWithLoss by hand', (t) => {
  const x = blob('x', [1, 3], [1, 2, 3]);
  const z = Math.exp(1) + Math.exp(2) + Math.exp(3);
  close(t, forward('name: "s" type: "Softmax"', [x]).tops[0]!.data, [Math.exp(1) / z, Math.exp(2) / z, Math.exp(3) / z]);
  const s = blob('s', [2, 2], [0, 0, 0, Math.log(3)]);
  const l = blob('l', [2], [0, 1]);
  const r = forward('name: "l" type: "SoftmaxWithLoss"', [s, l], 2);
  close(t, r.tops[0]!.data, [(Math.log(2) + Math.log(4 / 3)) / 2]);
  close(t, r.tops[1]!.data, [0.5, 0.5, 0.25, 0.75]);
  t.is(r.layer.lossWeights[0], 1);
  const ignored = forward('name: "l" type: "SoftmaxWithLoss" loss_param { ignore_label: 1 }', [s, l]);
  close(t, ignored.tops[0]!.data, [Math.log(2)]);
  const full = forward('name: "l" type: "SoftmaxWithLoss" loss_param { ignore_label: 1 normalization: FULL }', [s, l]);
  close(t, full.tops[0]!.data, [Math.log(2) / 2]);
});

test('EuclideanLoss and SigmoidCrossEntropyLoss by hand', (t) => {
  close(t, forward('name: "l" type: "EuclideanLoss"', [blob('a', [2, 2], [1, 2, 0, 0]), blob('b', [2, 2], [0, 0, 0, 1])]).tops[0]!.data, [(1 + 4 + 1) / 2 / 2]);
  const x = blob('x', [2, 2], [0, 0, 2, -1]);
  const y = blob('y', [2, 2], [1, 0, 1, 0]);
  const expected = (Math.log(2) + Math.log(2) + Math.log(1 + Math.exp(-2)) + Math.log(1 + Math.exp(-1))) / 2;
  close(t, forward('name: "l" type: "SigmoidCrossEntropyLoss"', [x, y]).tops[0]!.data, [expected]);
});

test('Accuracy with top_k, ties count against', (t) => {
  const x = blob('x', [3, 3], [0.1, 0.5, 0.4, 0.8, 0.1, 0.1, 0.3, 0.3, 0.4]);
  const l = blob('l', [3], [2, 0, 1]);
  close(t, forward('name: "a" type: "Accuracy"', [x, l]).tops[0]!.data, [1 / 3]);
  close(t, forward('name: "a" type: "Accuracy" accuracy_param { top_k: 2 }', [x, l]).tops[0]!.data, [2 / 3]);
  close(t, forward('name: "a" type: "Accuracy" accuracy_param { top_k: 3 }', [x, l]).tops[0]!.data, [1]);
});

test('labels out of range name the layer', (t) => {
  const x = blob('x', [2, 3], [0, 0, 0, 0, 0, 0]);
  const l = blob('lbl', [2], [1, 7]);
  const { layer, tops } = makeLayer('name: "my_loss" type: "SoftmaxWithLoss"', [x, l]);
  const e = t.throws(() => layer.forward([x, l], tops), { instanceOf: LabelRangeError });
  t.regex(e!.message, /my_loss.*label 7.*\[0, 3\)/);
  const acc = makeLayer('name: "acc" type: "Accuracy"', [x, l]);
  t.throws(() => acc.layer.forward([x, l], acc.tops), { message: /acc.*label 7/ });
});
