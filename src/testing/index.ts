/**
 * `heapstream/testing`: a harness for users' own processors and sinks.
 *
 * @example
 * import { runProcessor, checkProcessorContract, summaryBatch, cycleEnd } from 'heapstream/testing';
 * import { nodeBatch, podSet, batchesOf, setByKey } from 'heapstream/testing';
 */
export { testContext } from './context.js';
export { schedulerClock } from './scheduler-clock.js';
export { collectingSink, type Collected } from './collecting-sink.js';
export { piecewiseWrites } from './piecewise-writes.js';
export { runProcessor, checkProcessorContract, type ContractReport } from './run-processor.js';
export { deepFreeze } from './deep-freeze.js';
export { cloneEvent } from './clone-event.js';
export { setValuesEquality } from './set-values-equality.js';
export { summaryBatch, nodeBatch, cycleEnd } from './fixtures.js';
export { containerSet, podSet, nodeSet, type SetInput } from './sets.js';
export { batchesOf, clusterBatchesOf, setByKey, labeledValue } from './events.js';
