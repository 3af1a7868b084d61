/** Every benchmark suite, in report order. */
import { ablationSuite } from './ablation.js';
import { convergenceSuite } from './convergence.js';
import { kernelsSuite } from './kernels.js';
import { pgasSuite } from './pgas.js';
import { scalingSuite } from './scaling.js';
import { sourcesSuite } from './sources.js';
import { terabyteSuite } from './terabyte.js';
import type { Suite } from './types.js';

export const SUITES: readonly Suite[] = [pgasSuite, kernelsSuite, scalingSuite, convergenceSuite, ablationSuite, sourcesSuite, terabyteSuite];

export function findSuite(name: string): Suite | undefined {
  return SUITES.find((s) => s.name === name);
}
