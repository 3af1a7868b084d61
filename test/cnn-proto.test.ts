import test from 'ava';
import { fileURLToPath } from 'node:url';
import { DefinitionError, PrototxtSyntaxError } from '../cnn/errors.js';
import { parsePrototxt, parseTextFormat, readPrototxt } from '../cnn/proto/index.js';
import { readSolverFile } from '../cnn/solver/solver-config.js';

const examples = fileURLToPath(new URL('../../cnn/examples/mnist/', import.meta.url));

test("Caffe's lenet_train_test.prototxt parses as a NetParameter", (t) => {
  const net = readPrototxt(`${examples}lenet_train_test.prototxt`, 'NetParameter');
  t.is(net.str('name'), 'LeNet');
  const layers = net.msgs('layer');
  t.deepEqual(layers.map((l) => l.str('name')), ['mnist', 'mnist', 'conv1', 'pool1', 'conv2', 'pool2', 'ip1', 'relu1', 'ip2', 'accuracy', 'loss']);
  t.is(layers[0]!.msgs('include')[0]!.str('phase'), 'TRAIN');
  t.is(layers[0]!.msg('transform_param').num('scale'), 0.00390625);
  t.is(layers[0]!.msg('data_param').num('batch_size'), 64);
  t.is(layers[0]!.msg('data_param').str('backend'), 'LMDB');
  t.is(layers[1]!.msg('data_param').num('batch_size'), 100);
  const conv1 = layers[2]!;
  t.deepEqual(conv1.msgs('param').map((p) => p.num('lr_mult')), [1, 2]);
  t.deepEqual(conv1.msgs('param').map((p) => p.num('decay_mult')), [1, 1]); // the proto default
  t.deepEqual(conv1.msg('convolution_param').nums('kernel_size'), [5]);
  t.is(conv1.msg('convolution_param').msg('weight_filler').str('type'), 'xavier');
  t.is(conv1.msg('convolution_param').msg('bias_filler').num('value'), 0);
  t.is(layers[3]!.msg('pooling_param').str('pool'), 'MAX');
  t.deepEqual(layers[7]!.strs('bottom'), ['ip1']);
  t.deepEqual(layers[7]!.strs('top'), ['ip1']);
  t.deepEqual(layers[10]!.strs('bottom'), ['ip2', 'label']);
  t.is(layers[2]!.loc('convolution_param').line, 47);
});

test("Caffe's lenet_solver.prototxt parses, with paths relative to it", (t) => {
  const s = readSolverFile(`${examples}lenet_solver.prototxt`);
  t.is(s.type, 'SGD');
  t.is(s.base_lr, 0.01);
  t.is(s.momentum, 0.9);
  t.is(s.weight_decay, 0.0005);
  t.is(s.lr_policy, 'inv');
  t.is(s.gamma, 0.0001);
  t.is(s.power, 0.75);
  t.deepEqual(s.test_iter, [100]);
  t.is(s.test_interval, 500);
  t.is(s.max_iter, 10000);
  t.is(s.display, 100);
  t.is(s.snapshot, 5000);
  t.is(s.snapshot_prefix, `${examples}lenet`);
  t.is(s.trainNet.baseDir, examples.replace(/\/$/, ''));
  t.is(s.testNets.length, 1);
  t.is(s.regularization_type, 'L2');
});

test('text format: comments, strings, escapes, concatenation, lists, separators, <> messages', (t) => {
  const m = parseTextFormat(`
    # a comment
    name: "a\\"b\\n\\x41\\101" 'c'   # trailing comment
    dim: [1, 2, 3]; dim: 4,
    sub < x: 1 > other: { y: -2.5e-3 }
    flag: true e: NAN f: -inf g: 0x1F h: 1.5f
  `);
  const fields = m.fields.map((f) => f.name);
  t.deepEqual(fields, ['name', 'dim', 'dim', 'dim', 'dim', 'sub', 'other', 'flag', 'e', 'f', 'g', 'h']);
  const name = m.fields[0]!.value;
  t.true(name.kind === 'string' && name.text === 'a"b\nAAc');
  t.is(m.fields[0]!.line, 3);
  const other = m.fields[6]!.value;
  t.true(other.kind === 'message' && other.fields[0]!.name === 'y');
});

test('typed decoding: enums, repeated fields, defaults, number forms', (t) => {
  const l = parsePrototxt('name: "p" type: "Pooling" pooling_param { pool: AVE kernel_size: 3 stride: 0x2 } loss_weight: [1, 0.5] include { phase: TEST stage: "a" stage: "b" }', 'LayerParameter');
  t.is(l.msg('pooling_param').str('pool'), 'AVE');
  t.is(l.msg('pooling_param').num('stride'), 2);
  t.is(l.msg('pooling_param').num('pad'), 0);
  t.deepEqual(l.nums('loss_weight'), [1, 0.5]);
  t.deepEqual(l.msgs('include')[0]!.strs('stage'), ['a', 'b']);
  t.false(l.has('bottom'));
  t.is(l.msg('convolution_param').bool('bias_term'), true);
});

const malformed: [string, string, RegExp][] = [
  ['unclosed message', 'layer {\n  name: "x"\n', /<t>:3:1: message opened at line 1 is not closed/],
  ['unclosed string', 'name: "abc\n', /<t>:1:7: string not closed/],
  ['missing value', 'name:\n}', /<t>:2:1: .*no value/],
  ['stray brace', 'name: "a" }', /<t>:1:11: unexpected '}'/],
  ['no colon', 'name "a"', /<t>:1:6: expected ':' or '\{' after field name 'name'/],
  ['bad character', 'name: "a" @', /<t>:1:11: unexpected character '@'/],
  ['bad number', 'x: 12ab', /<t>:1:4: malformed number/],
  ['bad escape', 'name: "\\q"', /unknown escape/],
];
for (const [what, text, re] of malformed) {
  test(`malformed text is reported with its line: ${what}`, (t) => {
    const e = t.throws(() => parseTextFormat(text, '<t>'), { instanceOf: PrototxtSyntaxError });
    t.regex(e!.message, re);
    t.is(e!.code, 'ERR_CNN_PROTOTXT');
  });
}

const badSchema: [string, string, RegExp][] = [
  ['unknown field, with a suggestion', 'layer {\n  name: "c"\n  convolution_param { num_outptu: 3 }\n}', /<n>:3:23: unknown field 'num_outptu' in ConvolutionParameter \(did you mean 'num_output'\?\)/],
  ['unknown enum value', 'layer { pooling_param {\n pool: MEDIAN } }', /<n>:2:8: PoolingParameter.pool must be one of MAX, AVE, STOCHASTIC; got MEDIAN/],
  ['string for a number', 'layer { convolution_param { num_output: "3" } }', /must be an integer/],
  ['negative unsigned', 'layer { convolution_param { num_output: -3 } }', /must not be negative/],
  ['scalar for a message', 'layer: 3', /LayerParameter|is a message/],
  ['repeated non-repeated field', 'name: "a"\nname: "b"', /<n>:2:1: field 'name' of NetParameter is not repeated .*line 1/],
  ['bare word for a string', 'name: LeNet', /must be a quoted string/],
  ['bool', 'force_backward: maybe', /must be true or false/],
];
for (const [what, text, re] of badSchema) {
  test(`definitions that do not fit Caffe's schema: ${what}`, (t) => {
    const e = t.throws(() => parsePrototxt(text, 'NetParameter', '<n>'), { instanceOf: DefinitionError });
    t.regex(e!.message, re);
  });
}

test('a missing file is a clear error naming it', (t) => {
  t.throws(() => readPrototxt('/nonexistent/net.prototxt', 'NetParameter'), { message: /\/nonexistent\/net\.prototxt/ });
});
