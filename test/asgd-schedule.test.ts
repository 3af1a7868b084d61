/** Learning-rate policies against ALGORITHMS-DETAIL §9.5 (Caffe's values, including the LeNet log line). */
import test from 'ava';
import { Schedule, validateScheduleConfig, type ScheduleConfig } from '../runtime/asgd/schedule.js';

const rate = (config: ScheduleConfig, base: number, iter: number): number => new Schedule(validateScheduleConfig(config)).rate(base, iter);

test('inv: 0.00992565 at 100 (the LeNet log), 0.0059460356 at 10000', (t) => {
  const inv: ScheduleConfig = { policy: 'inv', gamma: 1e-4, power: 0.75 };
  t.true(Math.abs(rate(inv, 0.01, 100) - 0.0099256503) < 1e-10);
  t.true(Math.abs(rate(inv, 0.01, 10000) - 0.0059460356) < 1e-10);
});

test('multistep, step, poly, sigmoid, exp, fixed', (t) => {
  const multi: ScheduleConfig = { policy: 'multistep', gamma: 0.9, stepvalues: [5000, 7000, 8000, 9000, 9500] };
  const expected = [[4999, 0.01], [5000, 0.009], [7000, 0.0081], [9500, 0.0059049]] as const;
  for (const [iter, value] of expected) t.true(Math.abs(rate(multi, 0.01, iter) - value) < 1e-12, `multistep at ${iter}`);
  t.true(Math.abs(rate({ policy: 'step', gamma: 0.1, stepsize: 100000 }, 0.01, 99999) - 0.01) < 1e-15);
  t.true(Math.abs(rate({ policy: 'step', gamma: 0.1, stepsize: 100000 }, 0.01, 100000) - 0.001) < 1e-15);
  t.true(Math.abs(rate({ policy: 'poly', power: 1, maxIter: 10000 }, 0.01, 5000) - 0.005) < 1e-15);
  t.true(Math.abs(rate({ policy: 'sigmoid', gamma: -0.001, stepsize: 5000 }, 0.01, 5000) - 0.005) < 1e-15);
  t.true(Math.abs(rate({ policy: 'exp', gamma: 0.5 }, 1, 3) - 0.125) < 1e-15);
  t.is(rate({ policy: 'fixed' }, 0.3, 12345), 0.3);
});

test('schedule configs: unknown policy, missing and misplaced parameters', (t) => {
  t.regex(t.throws(() => validateScheduleConfig({ policy: 'cosine' as 'fixed' }))!.message, /unknown schedule policy 'cosine'/);
  t.regex(t.throws(() => validateScheduleConfig({ policy: 'inv', gamma: 1e-4 }))!.message, /schedule\.power: is required by policy 'inv'/);
  t.regex(t.throws(() => validateScheduleConfig({ policy: 'fixed', gamma: 1 }))!.message, /schedule\.gamma: is not an option here/);
  t.regex(t.throws(() => validateScheduleConfig({ policy: 'exp', gamma: NaN }))!.message, /schedule\.gamma/);
  t.regex(t.throws(() => validateScheduleConfig({ policy: 'multistep', gamma: 0.5, stepvalues: [10, 5] }))!.message, /increase/);
});
