/**
 * `heapstream/testing`: a harness for users' own processors and sinks.
 *
 * @example
 * import { runProcessor, checkProcessorContract, summaryBatch, cycleEnd } from 'heapstream/testing';
 */
export { testContext } from './context.js';
export { collectingSink, type Collected } from './collecting-sink.js';
export { piecewiseWrites } from './piecewise-writes.js';
export { runProcessor, checkProcessorContract, deepFreeze, type ContractReport } from './run-processor.js';
export { summaryBatch, cycleEnd } from './fixtures.js';
