/** The cursor check both epoch-walking data sources (dense rows, k-means points) restore through. */
import test from 'ava';
import { DenseDataSource, readEpochCursor } from '../runtime/asgd/index.js';
import { KmeansDataSource } from '../kmeans/batches.js';
import { SyntheticData } from '../kmeans/synthetic.js';
import { SyntheticSource } from '../kmeans/source.js';

test('a cursor within the partition gives its epoch and position back as numbers', (t) => {
  t.deepEqual(readEpochCursor({ samples: 12, epoch: 3, pos: 5 }, 5), { epoch: 3, pos: 5 });
  t.deepEqual(readEpochCursor({ samples: 0, epoch: '0', pos: '0' }, 1), { epoch: 0, pos: 0 });
});

test('a cursor that cannot belong to the partition is a RangeError naming what does not fit', (t) => {
  for (const cursor of [{ epoch: -1, pos: 0 }, { epoch: 1.5, pos: 0 }, { epoch: 0, pos: 6 }, { epoch: 0, pos: -1 }, { pos: 0 }, { epoch: 'x', pos: 0 }]) {
    const error = t.throws(() => readEpochCursor({ samples: 0, ...cursor }, 5), { instanceOf: RangeError }, JSON.stringify(cursor));
    t.regex(error!.message, /does not fit this partition .*size 5\)/);
  }
});

test('both data sources refuse a cursor from a larger partition', (t) => {
  const dense = new DenseDataSource({ x: new Float32Array(8), y: new Float32Array(4), rows: 4, dim: 2 }, Int32Array.of(0, 1, 2, 3), 7, 0);
  t.throws(() => dense.restoreCursor({ samples: 9, epoch: 1, pos: 9 }), { instanceOf: RangeError, message: /pos 9, size 4/ });
  const points = new KmeansDataSource(new SyntheticSource(new SyntheticData({ seed: 4, points: 4, dim: 2, kTrue: 2, spread: 0.1 })), { seed: 7 });
  t.throws(() => points.restoreCursor({ samples: 9, epoch: 1, pos: 9 }), { instanceOf: RangeError, message: /pos 9, size 4/ });
});
