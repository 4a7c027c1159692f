/**
 * Child process for crash.test.ts: writes node batches decoded from a real `/stats/summary` payload through
 * the file sink as fast as it can, forever, until the test kills it with SIGKILL. It never closes the sink,
 * so whatever is open at the kill is left exactly as a crashed heapstream would leave it.
 *
 *   node --import tsx crash-writer.ts <lake dir> <stats-summary.json> '<file sink config as JSON>'
 *
 * Prints `written <n>` after every batch, so the test can see it is running.
 */
import { readFileSync } from 'node:fs';
import { testContext } from '../../../src/testing/context.js';
import { decodeSummary } from '../../../sources/kubelet-summary/decode.js';
import type { NodeBatch } from '../../../src/model/types.js';
import fileSinkDefinition from '../index.js';

/** A fixed start, so the partitions (and the hours the run crosses) are the same on every run. */
const T0 = Date.UTC(2026, 10, 28, 9, 0, 0);

const [lake, fixture, configJson] = process.argv.slice(2);
if (lake === undefined || fixture === undefined || configJson === undefined) {
  throw new Error('usage: crash-writer.ts <lake dir> <stats-summary.json> <config json>');
}
const config = fileSinkDefinition.config.parse({ ...(JSON.parse(configJson) as object), path: lake });
const sink = fileSinkDefinition.create(config, testContext({ id: 'crash' }));
const sets = decodeSummary(JSON.parse(readFileSync(fixture, 'utf8')), { name: 'crash-node' });

await sink.connect?.();
for (let cycle = 1; ; cycle++) {
  const batch: NodeBatch = {
    kind: 'batch',
    scope: 'node',
    node: 'crash-node',
    cycle,
    timestamp: T0 + cycle * 15_000,
    sets,
  };
  await sink.write(batch);
  process.stdout.write(`written ${cycle}\n`);
}
