// A decoder for the pool's tests: its behaviour is chosen by the node's name.
import { DecodeError } from '../../../component/errors.js';
import { SetValues } from '../../../model/set-values.js';
import type { MetricSet } from '../../../model/types.js';

export function decodeForTest(bytes: Uint8Array, node: { name: string }): MetricSet[] {
  // A worker thread that exits (out of memory, a native crash): process.exit in a worker ends only that thread.
  // eslint-disable-next-line no-restricted-properties
  if (node.name === 'exits') process.exit(3);
  if (node.name === 'bug') throw new TypeError('not a function, as bugs go');
  if (node.name === 'bad') throw new DecodeError('no node section');
  return [
    {
      type: 'node',
      key: `node:${node.name}`,
      labels: { nodename: node.name },
      values: SetValues.from({ 'cpu/usage': bytes.length }),
      labeled: [],
      scrapeTime: 0,
      startTime: 0,
    },
  ];
}
