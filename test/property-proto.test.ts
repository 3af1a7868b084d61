/**
 * The prototxt parser (cnn/proto) against generated text: arbitrary strings, soups of prototxt tokens,
 * and mutations of Caffe's LeNet net and solver as shipped. Parsed as NetParameter and SolverParameter:
 * a message or a CnnError (PrototxtSyntaxError, DefinitionError), never another exception or a hang.
 */
import test from 'ava';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CnnError } from '../cnn/errors.js';
import { parsePrototxt } from '../cnn/proto/index.js';
import { checkParser, mutatedText } from './fixtures/property-lib.js';

const example = (name: string): string => readFileSync(fileURLToPath(new URL(`../../cnn/examples/mnist/${name}`, import.meta.url)), 'utf8');
const NET = example('lenet_train_test.prototxt');
const SOLVER = example('lenet_solver.prototxt');

const typed = (e: unknown): boolean => e instanceof CnnError;
const TOKENS = ['layer', 'layers', '{', '}', ':', ' ', '\n', '\t', 'name', 'type', 'bottom', 'top', '"conv1"', '"Convolution"', '"Data"', '"InnerProduct"',
  '"SoftmaxWithLoss"', 'convolution_param', 'num_output', 'kernel_size', 'stride', 'pad', 'weight_filler', 'include', 'phase', 'TRAIN', 'TEST',
  'param', 'lr_mult', 'data_param', 'source', 'batch_size', 'base_lr', 'max_iter', 'lr_policy', '"inv"', 'momentum', 'net', 'test_iter',
  '20', '-1', '0', '1e309', '-1e-400', '0x1F', '1.5', 'nan', 'inf', '-inf', '1e', '.', '"', "'", '\\', '"\\x', '"\\u1234"', '#', '# comment\n',
  '[', ']', ',', ';', '<', '>', 'true', 'false', '"unterminated', '\u0000', '\u00e9', '\ud800', '__proto__', 'constructor', 'prototype', 'toString'];
const soup = fc.array(fc.constantFrom(...TOKENS), { maxLength: 80 }).map((a) => a.join(''));
const alphabet = fc.constantFrom(...TOKENS);

/** Parse as both message types; the first error (if any) is rethrown once both were tried. */
const parseBoth = (text: string): void => {
  let first: unknown;
  for (const type of ['NetParameter', 'SolverParameter']) {
    try {
      parsePrototxt(text, type);
    } catch (error) {
      if (!typed(error)) throw error;
      first ??= error;
    }
  }
  if (first !== undefined) throw first;
};

test('prototxt: arbitrary strings', (t) => {
  checkParser(t, 'prototxt/random', fc.string({ unit: 'binary', maxLength: 300 }), parseBoth, typed);
  t.pass();
});

test('prototxt: token soups', (t) => {
  checkParser(t, 'prototxt/tokens', soup, parseBoth, typed);
  t.pass();
});

test('prototxt: mutations of the LeNet net and solver', (t) => {
  const tally = checkParser(t, 'prototxt/lenet-mutated', mutatedText(fc.constantFrom(NET, SOLVER), alphabet), (text) => {
    parsePrototxt(text, text.includes('layer') ? 'NetParameter' : 'SolverParameter');
  }, typed);
  t.true(tally.accepted > 0 && tally.typed > 0, 'both accepted and refused mutations');
});

test('prototxt: field names that are Object.prototype properties are unknown fields (found by the token soup run)', (t) => {
  for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf']) {
    for (const type of ['NetParameter', 'SolverParameter']) {
      t.throws(() => parsePrototxt(`${name}: 1`, type), { instanceOf: CnnError, message: new RegExp(`unknown field '${name}'`) });
    }
  }
});
