/**
 * Kafka sink throughput: metric sets per second, `set` format, to a local single-node broker (started here,
 * on loopback, unless KAFKA_BOOTSTRAP names one). Prints the numbers; nothing is written to the docs.
 *
 *   npx tsx bench/kafka-throughput.ts [seconds=10] [format=set] [compression=none]
 */
import os from 'node:os';
import kafkaSinkDef from '../sinks/kafka/index.js';
import type { NodeBatch } from '../src/model/types.js';
import { summaryBatch } from '../src/testing/fixtures.js';
import { testContext } from '../src/testing/context.js';
import { startKafka, type KafkaService } from '../test/services/kafka.js';

const seconds = Number(process.argv[2] ?? 10);
const format = process.argv[3] ?? 'set';
const compression = process.argv[4] ?? 'none';
const inFlight = Number(process.env.IN_FLIGHT ?? 64);

const fixtures = ['nri-1.34', 'nri-1.30', 'otel-minikube', 'splunk-eks'].map(
  (name) => new URL(`../../shared/fixtures/kubelet/${name}/stats-summary.json`, import.meta.url),
);

// 200 nodes' batches, decoded before timing: the benchmark measures the sink, not the decoder.
const batches: NodeBatch[] = [];
for (let i = 0; i < 200; i++) {
  batches.push(summaryBatch(fixtures[i % fixtures.length] as URL, { node: `node-${i}`, cycle: 1 }));
}
const setsPerRound = batches.reduce((n, b) => n + b.sets.length, 0);

let kafka: KafkaService | undefined;
const bootstrap = process.env.KAFKA_BOOTSTRAP ?? (kafka = await startKafka()).bootstrap;
try {
  const sink = kafkaSinkDef.create(
    kafkaSinkDef.config.parse({ brokers: [bootstrap], topic: `bench-${Date.now()}`, format, compression }),
    testContext(),
  );
  await sink.connect?.();
  // Warm-up: topic creation, JIT.
  for (const batch of batches.slice(0, 20)) await sink.write(batch);

  let sets = 0;
  let round = 0;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const pending = new Set<Promise<void>>();
  while (performance.now() < deadline) {
    round++;
    for (const batch of batches) {
      // A new batch object per round, as the pipeline makes: the sink keeps per-batch delivery state.
      const write = sink.write({ ...batch, cycle: round + 1 });
      pending.add(write);
      void write.finally(() => pending.delete(write));
      sets += batch.sets.length;
      if (pending.size >= inFlight) await Promise.race(pending);
    }
  }
  await Promise.all(pending);
  const elapsed = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  await sink.close();
  const rate = Math.round(sets / elapsed);
  console.log(
    `kafka sink, format ${format}, compression ${compression}: ${sets} metric sets (${setsPerRound} per round of ` +
      `${batches.length} node batches) in ${elapsed.toFixed(2)} s = ${rate.toLocaleString('en')} sets/s; ` +
      `heapstream's own CPU: ${(((cpu.user + cpu.system) / sets) * 1).toFixed(1)} µs per set ` +
      `(${((cpu.user + cpu.system) / 1e6 / elapsed).toFixed(2)} cores); load average ${os.loadavg()[0]?.toFixed(1)}`,
  );
} finally {
  await kafka?.stop();
}
