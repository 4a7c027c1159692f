/**
 * Prometheus text reading cost on a real kubelet `/metrics/cadvisor` response: the reader alone, the whole
 * decode into metric sets, and JSON.parse of the same samples written as JSON (what a native parser costs
 * for the same content), each the median of several runs after warm-up.
 *
 *   npx tsx bench/extras/prometheus-parse.ts
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { decodePrometheusMetrics } from '../../sources/kubelet-prometheus/decode.js';
import { PrometheusTextReader } from '../../sources/kubelet-prometheus/prom-text.js';

/** The repo's own copy of a real kubelet 1.27 /metrics/cadvisor capture (fixtures/PROVENANCE.md). */
const CAPTURE = new URL('../../fixtures/prometheus/nri-1.27-metrics-cadvisor.prom', import.meta.url);
const WARM_UP_RUNS = 10;
const MEASURED_RUNS = 25;

export interface PrometheusParseResult {
  /** Bytes of the capture (UTF-8). */
  readonly bytes: number;
  /** Samples in it. */
  readonly samples: number;
  /** PrometheusTextReader over every sample (name, labels, value, timestamp), nothing else. */
  readonly msPerParse: number;
  /** decodePrometheusMetrics: reading plus building the node, container and pod sets. */
  readonly msPerDecode: number;
  /** JSON.parse of the same samples as `[{"name","labels":{…},"value"}]`: the native parser's cost for the content. */
  readonly jsonParseFloorMs?: number;
}

/**
 * Times the Prometheus text reader and the full decode on the kubelet /metrics/cadvisor capture.
 *
 * @example
 * const { msPerParse, msPerDecode, samples } = measurePrometheusParse();
 */
export function measurePrometheusParse(): PrometheusParseResult {
  const text = readFileSync(CAPTURE, 'utf8');
  const samples = readAll(text);
  const json = samplesAsJson(text);
  let sink = 0;
  const msPerParse = median(() => (sink += readAll(text)));
  const msPerDecode = median(
    () => (sink += decodePrometheusMetrics(text, { name: 'bench-node' }, 0, '/metrics/cadvisor').length),
  );
  const jsonParseFloorMs = median(() => (sink += (JSON.parse(json) as unknown[]).length));
  if (sink === 0) throw new Error('the capture decoded to nothing');
  return { bytes: Buffer.byteLength(text), samples, msPerParse, msPerDecode, jsonParseFloorMs };
}

/** Reads every sample and touches its value, so no work can be skipped; returns the sample count. */
function readAll(text: string): number {
  const reader = new PrometheusTextReader(text, '/metrics/cadvisor');
  let samples = 0;
  let total = 0;
  while (reader.next()) {
    samples++;
    total += reader.labelCount;
  }
  return total >= 0 ? samples : -1;
}

function samplesAsJson(text: string): string {
  const reader = new PrometheusTextReader(text, '/metrics/cadvisor');
  const out: { name: string; labels: Record<string, string>; value: number; timestamp?: number }[] = [];
  while (reader.next()) {
    const labels: Record<string, string> = {};
    for (let i = 0; i < reader.labelCount; i++) labels[reader.labelNames[i]!] = reader.labelValues[i]!;
    out.push({
      name: reader.name,
      labels,
      value: reader.value,
      ...(reader.timestamp === undefined ? {} : { timestamp: reader.timestamp }),
    });
  }
  return JSON.stringify(out);
}

function median(run: () => void): number {
  for (let i = 0; i < WARM_UP_RUNS; i++) run();
  const times: number[] = [];
  for (let i = 0; i < MEASURED_RUNS; i++) {
    const started = performance.now();
    run();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] as number;
}

/** The result as a Markdown table. */
export function formatPrometheusParse(r: PrometheusParseResult): string {
  return [
    '| capture | bytes | samples | reader ms | decode ms | JSON.parse floor ms | MB/s (decode) |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    `| /metrics/cadvisor (kubelet 1.27) | ${r.bytes.toLocaleString('en-US')} | ` +
      `${r.samples.toLocaleString('en-US')} | ${r.msPerParse.toFixed(2)} | ${r.msPerDecode.toFixed(2)} | ` +
      `${r.jsonParseFloorMs?.toFixed(2) ?? 'n/a'} | ${(r.bytes / 1e6 / (r.msPerDecode / 1000)).toFixed(1)} |`,
  ].join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(formatPrometheusParse(measurePrometheusParse()));
}
