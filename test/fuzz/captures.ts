/**
 * The real captures the fuzz tests start from, parsed once, each printed by fast-check by its name only.
 */
import fc from 'fast-check';
import { renderCadvisorV1, renderMetricsCadvisor } from '../../src/sim/cadvisor/render.js';
import { indexPaths, sharedFixture, type PathIndex } from './support.js';

/** One parsed JSON capture and the index of its paths. */
export class JsonCapture {
  readonly index: PathIndex;
  constructor(
    readonly name: string,
    readonly document: unknown,
  ) {
    this.index = indexPaths(document);
  }
  [fc.toStringMethod](): string {
    return this.name;
  }
}

/** One Prometheus text capture, split into lines. */
export class TextCapture {
  readonly lines: readonly string[];
  /** Indexes of the sample lines (not comments, not blank). */
  readonly samples: readonly number[];
  constructor(
    readonly name: string,
    text: string,
  ) {
    this.lines = text.split('\n');
    this.samples = this.lines.flatMap((line, i) => (line === '' || line.startsWith('#') ? [] : [i]));
  }
  [fc.toStringMethod](): string {
    return this.name;
  }
}

const SUMMARY_CAPTURES = [
  'metrics-server-kind',
  'nri-1.16',
  'nri-1.20',
  'nri-1.24',
  'nri-1.28',
  'nri-1.30',
  'nri-1.34',
  'otel-minikube',
  'splunk-eks',
] as const;

function summaryJson(name: string): Record<string, unknown> {
  return JSON.parse(sharedFixture(`kubelet/${name}/stats-summary.json`)) as Record<string, unknown>;
}

/** Real `/stats/summary` payloads of kubelets 1.16–1.34 (kind, minikube, EKS). */
export function summaryCaptures(): JsonCapture[] {
  return SUMMARY_CAPTURES.map((name) => new JsonCapture(`summary ${name}`, summaryJson(name)));
}

/**
 * Real cAdvisor v1 payloads, and one rendered by the simulator from a real summary (it carries the pod labels in
 * `spec.labels` that the captures lack).
 */
export function cadvisorCaptures(): JsonCapture[] {
  return [
    ...['seed-stats-container.json', 'splunk-eks-root-container.json'].map(
      (file) => new JsonCapture(`cadvisor ${file}`, JSON.parse(sharedFixture(`cadvisor/${file}`))),
    ),
    new JsonCapture('cadvisor rendered from summary nri-1.24', renderCadvisorV1(summaryJson('nri-1.24'))),
  ];
}

/** Real `/metrics/resource` and `/metrics/cadvisor` texts, and one rendered by the simulator. */
export function prometheusCaptures(): TextCapture[] {
  return [
    new TextCapture(
      'metrics-server-metrics-resource.prom',
      sharedFixture('prometheus/metrics-server-metrics-resource.prom'),
    ),
    new TextCapture(
      'nri-1.27-metrics-cadvisor.prom',
      sharedFixture('prometheus/nri-1.27-metrics-cadvisor.prom'),
    ),
    new TextCapture(
      'metrics/cadvisor rendered from summary nri-1.24',
      renderMetricsCadvisor(summaryJson('nri-1.24')),
    ),
  ];
}
