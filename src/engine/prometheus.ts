import { Registry, collectDefaultMetrics } from 'prom-client';
import type { Telemetry, TelemetrySample } from '../component/telemetry.js';

/**
 * Renders heapstream's telemetry in the Prometheus text format, followed by prom-client's process metrics
 * (CPU, memory, event-loop lag, GC). Telemetry keeps its own series so that components count without knowing
 * about Prometheus; this is the one place that translates.
 *
 * @example
 * const exporter = new PrometheusExporter(telemetry); const text = await exporter.render();
 */
export class PrometheusExporter {
  private readonly processRegistry = new Registry();

  constructor(private readonly telemetry: Telemetry) {
    collectDefaultMetrics({ register: this.processRegistry, prefix: 'heapstream_' });
  }

  readonly contentType = 'text/plain; version=0.0.4; charset=utf-8';

  async render(): Promise<string> {
    return renderTelemetry(this.telemetry) + (await this.processRegistry.metrics());
  }
}

export function renderTelemetry(telemetry: Telemetry): string {
  const byName = new Map<string, TelemetrySample[]>();
  for (const sample of telemetry.snapshot()) {
    let list = byName.get(sample.name);
    if (list === undefined) byName.set(sample.name, (list = []));
    list.push(sample);
  }
  let out = '';
  for (const name of [...byName.keys()].sort()) {
    const samples = byName.get(name) as TelemetrySample[];
    const kind = (samples[0] as TelemetrySample).kind;
    const help = telemetry.helpOf(name);
    if (help !== undefined) out += `# HELP ${name} ${escapeHelp(help)}\n`;
    out += `# TYPE ${name} ${kind}\n`;
    for (const s of samples) {
      if (s.kind !== 'histogram') {
        out += `${name}${formatLabels(s.labels)} ${formatNumber(s.value)}\n`;
        continue;
      }
      for (const b of s.buckets ?? []) {
        out += `${name}_bucket${formatLabels(s.labels, String(b.le))} ${b.count}\n`;
      }
      out += `${name}_bucket${formatLabels(s.labels, '+Inf')} ${s.count ?? 0}\n`;
      out += `${name}_sum${formatLabels(s.labels)} ${formatNumber(s.sum ?? 0)}\n`;
      out += `${name}_count${formatLabels(s.labels)} ${s.count ?? 0}\n`;
    }
  }
  return out;
}

function formatLabels(labels: Readonly<Record<string, string>>, le?: string): string {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}="${escapeLabel(labels[k] as string)}"`);
  if (le !== undefined) parts.push(`le="${le}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function formatNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}
