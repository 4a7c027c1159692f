/**
 * InfluxDB sink throughput: points/s of the sink (encoding included) against a minimal writer that only POSTs
 * pre-built line protocol, on the same server, body size, compression and concurrency (one request at a time).
 *
 *   npx tsx bench/influxdb-throughput.ts                        # starts a local VictoriaMetrics (api v2)
 *   npx tsx bench/influxdb-throughput.ts --influxdb1            # starts a local InfluxDB 1.x (api v1)
 *   INFLUX_URL=http://127.0.0.1:8428 npx tsx bench/influxdb-throughput.ts   # a server already running
 *
 * Options: --batches N (node batches per run, default 200), --rounds N (default 5), --no-gzip.
 */
import { gzipSync } from 'node:zlib';
import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';
import { LineProtocolEncoder } from '../sinks/influxdb/encode.js';
import { influxSinkConfig } from '../sinks/influxdb/config.js';
import { influxSink } from '../sinks/influxdb/influx-sink.js';
import { GZIP_THRESHOLD } from '../sinks/influxdb/targets.js';
import type { NodeBatch } from '../src/model/types.js';
import { summaryBatch } from '../src/testing/fixtures.js';
import { testContext } from '../src/testing/context.js';
import { startInfluxDB1, startVictoriaMetrics, type HttpService } from '../test/services/influxdb.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const useV1 = args.includes('--influxdb1');
const gzip = !args.includes('--no-gzip');
const batchCount = option('--batches', 200);
const rounds = option('--rounds', 5);
const maxLines = 5000;

const FIXTURES = new URL('../../shared/fixtures/kubelet/', import.meta.url);
const payloads = ['nri-1.34', 'nri-1.28', 'nri-1.20', 'splunk-eks'];

/** Node batches from real payloads, each with its own node name and time so every point is a new sample. */
function makeBatches(round: number): NodeBatch[] {
  // Rounds a minute apart, all on one day: VictoriaMetrics indexes series per day, and a new day would make
  // whichever run reached it first pay for indexing every series again.
  const base = Date.parse('2026-11-01T00:00:00Z') + round * 60_000;
  return Array.from({ length: batchCount }, (_, i) =>
    summaryBatch(new URL(`${payloads[i % payloads.length] ?? 'nri-1.34'}/stats-summary.json`, FIXTURES), {
      node: `node-${i}`,
      cycle: 1,
      timestamp: base + i,
    }),
  );
}

async function runSink(
  url: string,
  batches: readonly NodeBatch[],
): Promise<{ points: number; seconds: number }> {
  const ctx = testContext({ id: 'bench' });
  const config = influxSinkConfig.parse(
    useV1
      ? { url, api: 'v1', database: 'bench', create_database: true, gzip, batch: { max_lines: maxLines } }
      : { url, bucket: 'bench', org: 'bench', token: 't', gzip, batch: { max_lines: maxLines } },
  );
  const sink = influxSink(config, ctx);
  await sink.connect?.();
  const started = performance.now();
  for (const b of batches) await sink.write(b);
  const seconds = (performance.now() - started) / 1000;
  await sink.close();
  return {
    points: ctx.telemetry.value('heapstream_influxdb_lines_written_total', { sink: 'bench' }),
    seconds,
  };
}

async function runMinimal(
  url: string,
  batches: readonly NodeBatch[],
): Promise<{ points: number; seconds: number }> {
  // Bodies built before the clock starts: this writer measures the transport and the server alone.
  const encoder = new LineProtocolEncoder({
    schema: 'heapster',
    clusterName: 'default',
    precision: 'ms',
    maxLines,
    maxBytes: 2 * 1024 * 1024,
    disableCounterMetrics: false,
  });
  const bodies = batches.flatMap((b) => encoder.encode(b).chunks);
  const path = useV1 ? '/write?db=bench&precision=ms' : '/api/v2/write?bucket=bench&org=bench&precision=ms';
  const dispatcher = new Agent();
  let points = 0;
  const started = performance.now();
  for (const chunk of bodies) {
    const compress = gzip && chunk.body.length >= GZIP_THRESHOLD;
    const response = await request(url + path, {
      method: 'POST',
      dispatcher,
      headers: compress ? { 'content-encoding': 'gzip' } : {},
      body: compress ? gzipSync(chunk.body) : chunk.body,
    });
    await response.body.dump();
    if (response.statusCode >= 300) throw new Error(`minimal writer: HTTP ${response.statusCode}`);
    points += chunk.lines;
  }
  const seconds = (performance.now() - started) / 1000;
  await dispatcher.close();
  return { points, seconds };
}

async function main(): Promise<void> {
  let service: HttpService | undefined;
  let url = process.env.INFLUX_URL;
  if (url === undefined) {
    service = useV1 ? await startInfluxDB1() : await startVictoriaMetrics();
    url = service.url;
    if (useV1)
      await fetch(`${url}/query`, {
        method: 'POST',
        body: new URLSearchParams({ q: 'CREATE DATABASE bench' }),
      });
  }
  const target = `${useV1 ? 'InfluxDB 1.x, api v1' : 'api v2'} at ${url}, gzip ${gzip ? 'on' : 'off'}`;
  console.log(`InfluxDB sink throughput: ${batchCount} node batches per run, ${rounds} rounds, ${target}`);
  const sinkRates: number[] = [];
  const minimalRates: number[] = [];
  try {
    // Warm-up, not counted: JIT, connections, and the server's series registration (every run writes the same
    // series at new times, so whichever went first would otherwise pay for creating them).
    await runMinimal(url, makeBatches(100));
    await runSink(url, makeBatches(101));
    for (let round = 0; round < rounds; round++) {
      // Alternate which goes first so neither always gets the warmer server.
      const order = round % 2 === 0 ? (['sink', 'minimal'] as const) : (['minimal', 'sink'] as const);
      for (const which of order) {
        const batches = makeBatches(round * 2 + (which === 'sink' ? 0 : 1));
        const { points, seconds } =
          which === 'sink' ? await runSink(url, batches) : await runMinimal(url, batches);
        const rate = points / seconds;
        (which === 'sink' ? sinkRates : minimalRates).push(rate);
        console.log(
          `  round ${round + 1} ${which.padEnd(7)} ${points} points in ${seconds.toFixed(2)} s = ${Math.round(rate)} points/s`,
        );
      }
    }
  } finally {
    await service?.stop();
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  const sink = median(sinkRates);
  const minimal = median(minimalRates);
  // On a shared machine the load drifts between rounds; the two runs of one round are back to back, so their
  // ratio is the steadier measure.
  const pairRatio = median(sinkRates.map((rate, i) => rate / (minimalRates[i] ?? Number.NaN)));
  console.log(`median: sink ${Math.round(sink)} points/s, minimal writer ${Math.round(minimal)} points/s`);
  console.log(
    `sink / minimal = ${((100 * sink) / minimal).toFixed(1)}% of medians, ${(100 * pairRatio).toFixed(1)}% median per round (target ≥ 80%)`,
  );
}

await main();
