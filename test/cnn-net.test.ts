import test from 'ava';
import { Rng } from '../runtime/asgd/rng.js';
import { Blob } from '../cnn/blob.js';
import { DefinitionError, ShapeError } from '../cnn/errors.js';
import { fanNorm } from '../cnn/filler.js';
import { Net } from '../cnn/net.js';
import { parsePrototxt } from '../cnn/proto/index.js';
import { lenetText, tempDir, writeSyntheticIdx } from './fixtures/cnn-data.js';

const dir = tempDir();
const trainFile = writeSyntheticIdx(dir, 'train', 200, { seed: 1 });
const testFile = writeSyntheticIdx(dir, 't10k', 100, { seed: 2 });
const lenet = lenetText(trainFile, testFile, 8, 10);

test('Blob: reshape keeps capacity, bound blobs keep their count', (t) => {
  const b = new Blob('b', [2, 3]);
  const data = b.data;
  b.reshape([3]);
  t.is(b.count, 3);
  t.is(b.data, data, 'shrinking does not allocate');
  b.reshape([4, 2]);
  t.not(b.data, data);
  t.is(b.countRange(1), 2);
  t.is(b.canonicalAxis(-1), 1);
  const params = new Float32Array(20);
  b.bind(params, new Float32Array(20), 5);
  t.is(b.data.buffer, params.buffer);
  t.is(b.data.byteOffset, 20);
  b.reshape([2, 4]);
  t.throws(() => b.reshape([9]), { instanceOf: ShapeError });
  t.throws(() => new Blob('x', [2, -1]), { instanceOf: ShapeError });
});

test("LeNet: Caffe's shapes and 431,080 parameters", (t) => {
  const net = Net.fromText(lenet, { phase: 'TRAIN' });
  t.is(net.paramCount, 431080);
  const shape = (n: string): number[] => net.blob(n).shape;
  t.deepEqual(shape('data'), [8, 1, 28, 28]);
  t.deepEqual(shape('conv1'), [8, 20, 24, 24]);
  t.deepEqual(shape('pool1'), [8, 20, 12, 12]);
  t.deepEqual(shape('conv2'), [8, 50, 8, 8]);
  t.deepEqual(shape('pool2'), [8, 50, 4, 4]);
  t.deepEqual(shape('ip1'), [8, 500]);
  t.deepEqual(shape('ip2'), [8, 10]);
  t.deepEqual(net.paramEntries.map((e) => [e.layer, e.index, e.count, e.lrMult, e.decayMult]), [
    ['conv1', 0, 500, 1, 1], ['conv1', 1, 20, 2, 1], ['conv2', 0, 25000, 1, 1], ['conv2', 1, 50, 2, 1],
    ['ip1', 0, 400000, 1, 1], ['ip1', 1, 500, 2, 1], ['ip2', 0, 5000, 1, 1], ['ip2', 1, 10, 2, 1],
  ]);
  t.deepEqual(net.layers.map((l) => l.name), ['mnist', 'conv1', 'pool1', 'conv2', 'pool2', 'ip1', 'relu1', 'ip2', 'loss']);
  t.deepEqual(net.outputs.map((b) => b.name), ['loss']);
  const testNet = Net.fromText(lenet, { phase: 'TEST', shareWith: net });
  // 10 layers in the test phase (the slides' "10 layers"), plus the splits Caffe inserts
  t.is(testNet.layers.filter((l) => l.type !== 'Split').length, 10);
  t.deepEqual(testNet.outputs.map((b) => b.name), ['accuracy', 'loss']);
  t.deepEqual(testNet.blob('data').shape, [10, 1, 28, 28]);
});

test('every learnable blob is a view into the one parameter array and the one gradient array', (t) => {
  const params = new Float32Array(431080);
  const grads = new Float32Array(431080);
  const net = Net.fromText(lenet, { phase: 'TRAIN', params, grads });
  let expected = 0;
  for (const e of net.paramEntries) {
    t.is(e.blob.data.buffer, params.buffer);
    t.is(e.blob.diff.buffer, grads.buffer);
    t.is(e.blob.data.byteOffset, 4 * expected);
    t.is(e.offset, expected);
    expected += e.count;
  }
  params[net.paramEntries[2]!.offset + 7] = 42;
  t.is(net.layer('conv2').blobs[0]!.data[7], 42);
  const testNet = Net.fromText(lenet, { phase: 'TEST', shareWith: net });
  t.is(testNet.layer('conv2').blobs[0]!.data[7], 42, 'the test net shares the train net array');
  // rebinding moves every view
  const p2 = new Float32Array(431080).fill(3);
  net.bind(p2, new Float32Array(431080));
  t.is(net.layer('ip2').blobs[1]!.data[0], 3);
  t.throws(() => net.bind(new Float32Array(5), new Float32Array(5)), { instanceOf: ShapeError });
});

test('LeNet fillers: xavier bounds sqrt(3/fan_in), biases 0', (t) => {
  const net = Net.fromText(lenet, { phase: 'TRAIN' });
  net.initParams(new Rng(1));
  const bounds: Record<string, number> = { conv1: Math.sqrt(3 / 25), conv2: Math.sqrt(3 / 500), ip1: Math.sqrt(3 / 800), ip2: Math.sqrt(3 / 500) };
  for (const [layer, a] of Object.entries(bounds)) {
    const [w, b] = net.layer(layer).blobs as [Blob, Blob];
    let max = 0;
    let sum = 0;
    for (let i = 0; i < w.count; i++) {
      max = Math.max(max, Math.abs(w.data[i]!));
      sum += w.data[i]!;
    }
    t.true(max <= a + 1e-7, `${layer}: max ${max} > ${a}`);
    t.true(max > 0.9 * a, `${layer}: max ${max} far below ${a}`);
    t.true(Math.abs(sum / w.count) < a / 4, `${layer}: mean ${sum / w.count}`);
    t.true(b.data.every((v) => v === 0));
  }
});

test('fillers: constant, uniform, gaussian, msra, xavier variance_norm', (t) => {
  const stats = (filler: string, shape = [100, 50]): { mean: number; std: number; min: number; max: number; blob: Blob } => {
    const net = new Net(parsePrototxt(`layer { name: "in" type: "Input" top: "x" input_param { shape { dim: 1 dim: ${shape[1]} } } } layer { name: "ip" type: "InnerProduct" bottom: "x" top: "y" inner_product_param { num_output: ${shape[0]} weight_filler { ${filler} } } }`, 'NetParameter'), { phase: 'TRAIN' });
    net.initParams(new Rng(3));
    const blob = net.layer('ip').blobs[0]!;
    let s = 0, s2 = 0, min = Infinity, max = -Infinity;
    for (let i = 0; i < blob.count; i++) {
      const v = blob.data[i]!;
      s += v; s2 += v * v; min = Math.min(min, v); max = Math.max(max, v);
    }
    const mean = s / blob.count;
    return { mean, std: Math.sqrt(s2 / blob.count - mean * mean), min, max, blob };
  };
  const c = stats('type: "constant" value: 0.25');
  t.is(c.min, 0.25);
  t.is(c.max, 0.25);
  const u = stats('type: "uniform" min: -0.5 max: 1.5');
  t.true(u.min >= -0.5 && u.max <= 1.5 && Math.abs(u.mean - 0.5) < 0.03);
  const g = stats('type: "gaussian" mean: 1 std: 0.5');
  t.true(Math.abs(g.mean - 1) < 0.03 && Math.abs(g.std - 0.5) < 0.02, `${g.mean} ${g.std}`);
  const m = stats('type: "msra"');
  t.true(Math.abs(m.std - Math.sqrt(2 / 50)) < 0.01, `msra std ${m.std}`);
  const x = stats('type: "xavier" variance_norm: AVERAGE');
  const a = Math.sqrt(3 / ((50 + 100) / 2));
  t.true(x.max <= a && x.max > 0.95 * a);
  t.is(fanNorm(x.blob, parsePrototxt('variance_norm: FAN_OUT', 'FillerParameter')), 100);
  const err = t.throws(() => stats('type: "bilinearish"'), { instanceOf: DefinitionError });
  t.regex(err!.message, /unknown filler type 'bilinearish'/);
});

test('phase, stage and level rules select layers', (t) => {
  const text = `
    layer { name: "in" type: "Input" top: "x" input_param { shape { dim: 2 dim: 3 } } }
    layer { name: "a" type: "ReLU" bottom: "x" top: "a" include { phase: TRAIN } }
    layer { name: "b" type: "ReLU" bottom: "x" top: "b" include { stage: "deploy" } }
    layer { name: "c" type: "ReLU" bottom: "x" top: "c" exclude { phase: TEST } }
    layer { name: "d" type: "ReLU" bottom: "x" top: "d" include { min_level: 2 } }
    layer { name: "e" type: "ReLU" bottom: "x" top: "e" include { not_stage: "deploy" phase: TEST } }`;
  const names = (o: { phase: 'TRAIN' | 'TEST'; stages?: string[]; level?: number }): string[] =>
    Net.fromText(text, o).layers.filter((l) => l.type !== 'Split').map((l) => l.name);
  t.deepEqual(names({ phase: 'TRAIN' }), ['in', 'a', 'c']);
  t.deepEqual(names({ phase: 'TEST' }), ['in', 'e']);
  t.deepEqual(names({ phase: 'TEST', stages: ['deploy'] }), ['in', 'b']);
  t.deepEqual(names({ phase: 'TEST', level: 3 }), ['in', 'd', 'e']);
});

test('a blob feeding two layers gets a Split that sums the gradients', (t) => {
  const net = Net.fromText(`
    layer { name: "in" type: "Input" top: "x" top: "t" input_param { shape { dim: 1 dim: 3 } } }
    layer { name: "ip" type: "InnerProduct" bottom: "x" top: "y" inner_product_param { num_output: 3 weight_filler { type: "constant" value: 1 } } }
    layer { name: "l1" type: "EuclideanLoss" bottom: "y" bottom: "t" top: "l1" }
    layer { name: "l2" type: "EuclideanLoss" bottom: "y" bottom: "t" top: "l2" loss_weight: 2 }`, { phase: 'TRAIN', seed: 1 });
  net.initParams(new Rng(1));
  t.true(net.layers.some((l) => l.type === 'Split'));
  net.blob('x').data.set([1, 2, 3]);
  net.blob('t').data.set([0, 0, 0]);
  const loss = net.forward();
  // y = [6, 6, 6]; each loss is ½·108 = 54; weights 1 and 2
  t.is(loss, 54 * 3);
  net.clearGrads();
  net.backward();
  // dL/dy = 3·y = 18 for each output; dL/dW[o, k] = 18·x[k]
  t.deepEqual(Array.from(net.layer('ip').blobs[0]!.diff.subarray(0, 3)), [18, 36, 54]);
});

test('backward skips what needs no gradient: data, labels, accuracy', (t) => {
  const net = Net.fromText(lenet, { phase: 'TEST' });
  const plan = (name: string) => net.backwardPlan(net.layers.findIndex((l) => l.name === name));
  t.false(plan('mnist').layer);
  t.deepEqual(plan('conv1').bottoms, [false]);
  t.deepEqual(plan('conv2').bottoms, [true]);
  t.false(plan('accuracy').layer);
  t.deepEqual(plan('loss').bottoms, [true, false]);
});

test('bad definitions name the layer and line', (t) => {
  const input = 'layer { name: "in" type: "Input" top: "x" input_param { shape { dim: 2 dim: 3 dim: 4 dim: 4 } } }\n';
  const cases: [string, RegExp, new (...a: never[]) => Error][] = [
    [input + 'layer { name: "q" type: "Quux" bottom: "x" top: "y" }', /<net>:2:.*layer 'q': unknown layer type 'Quux'/, DefinitionError],
    [input + 'layer { name: "r" type: "ReLU" bottom: "nope" top: "y" }', /<net>:2:.*layer 'r' \(ReLU\): bottom 'nope' is not produced by any earlier layer/, DefinitionError],
    [input + 'layer { name: "r" type: "ReLU" bottom: "x" top: "x2" }\nlayer { name: "s" type: "ReLU" bottom: "x" top: "x2" }', /layer 's': top 'x2' is produced by more than one layer/, DefinitionError],
    [input + 'layer { name: "in2" type: "Input" top: "z" input_param { shape { dim: 2 dim: 3 dim: 5 dim: 4 } } }\nlayer { name: "cat" type: "Concat" bottom: "x" bottom: "z" top: "c" concat_param { axis: 1 } }', /layer 'cat' \(Concat, <net>:3\).*differs/, ShapeError],
    [input + 'layer { name: "c" type: "Convolution" bottom: "x" top: "c" convolution_param { num_output: 4 kernel_size: 9 } }', /layer 'c'.*does not fit/, ShapeError],
    [input + 'layer { name: "c" type: "Convolution" bottom: "x" top: "c" convolution_param { num_output: 4 kernel_size: 2 group: 2 } }', /layer 'c'.*group 2 does not divide the 3 input channels/, DefinitionError],
    [input + 'layer { name: "c" type: "Convolution" bottom: "x" top: "c" }', /layer 'c'.*num_output is required/, DefinitionError],
    [input + 'layer { name: "r" type: "ReLU" bottom: "x" top: "y" include { phase: TRAIN } exclude { phase: TEST } }', /both include and exclude/, DefinitionError],
    [input + 'layer { name: "r" type: "ReLU" top: "y" }', /layer 'r' \(ReLU\) takes 1 bottom\(s\), got 0/, DefinitionError],
  ];
  for (const [text, re, cls] of cases) {
    const e = t.throws(() => Net.fromText(text, { phase: 'TRAIN' }), { instanceOf: cls });
    t.regex(e!.message, re);
  }
});

test('the test net must find every parameterised layer in the train net', (t) => {
  const train = Net.fromText('layer { name: "in" type: "Input" top: "x" input_param { shape { dim: 1 dim: 2 } } }', { phase: 'TRAIN' });
  t.throws(() => Net.fromText('layer { name: "in" type: "Input" top: "x" input_param { shape { dim: 1 dim: 2 } } } layer { name: "ip" type: "InnerProduct" bottom: "x" top: "y" inner_product_param { num_output: 2 } }', { phase: 'TEST', shareWith: train }), { message: /layer 'ip' of the TEST net has parameters/ });
});

test('LeNet forward and backward on IDX data: finite loss near ln 10, gradients everywhere', (t) => {
  const net = Net.fromText(lenet, { phase: 'TRAIN' });
  net.initParams(new Rng(1));
  const loss = net.forwardBackward();
  t.true(Math.abs(loss - Math.log(10)) < 0.5, `loss ${loss}`);
  for (const e of net.paramEntries) {
    let nz = 0;
    for (let i = 0; i < e.count; i++) if (e.blob.diff[i] !== 0) nz++;
    t.true(nz > 0, `${e.layer}[${e.index}] has no gradient`);
  }
  t.true(net.blob('data').data.every((v) => v >= 0 && v < 1));
});
