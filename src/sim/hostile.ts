import type { ServerResponse } from 'node:http';
import { renderCadvisorV1, renderMetricsCadvisor, renderMetricsResource } from './cadvisor/render.js';
import { isPlainObject } from '../model/plain-object.js';

/**
 * Payloads a broken or malicious kubelet sends with status 200, served on every endpoint that can carry them,
 * for testing that one such node is counted and named while the others are delivered:
 *
 * - `uint64_sentinel`: `node.fs.capacityBytes` is 18446744073709551615 (real kubelets' "unknown") and one
 *   container's `memory.usageBytes` is 1.2e32; the cAdvisor and Prometheus endpoints carry the same values.
 * - `label_types`: labels that are not strings: a pod's name is a number and its namespace an array (cAdvisor
 *   `spec.labels`, Summary `podRef`).
 * - `negative_counters`: every CPU and network counter is negative.
 * - `only_nan`: every sample of `/metrics/resource` and `/metrics/cadvisor` is NaN (JSON endpoints: every
 *   number is null, which JSON uses for NaN).
 * - `huge`: `pods` pods (default 6,000: over 12,000 sets, 20 MB of Summary, 330,000 series on `/metrics/cadvisor`).
 *   Rendered once per endpoint and then served as it is, since rendering takes seconds.
 * - `endless`: a 200 whose body trickles a few bytes at a time and never ends.
 *
 * @example
 * cluster.setFault('sim-node-007', { kind: 'hostile', payload: 'uint64_sentinel' });
 */
export const HOSTILE_PAYLOADS = [
  'uint64_sentinel',
  'label_types',
  'negative_counters',
  'only_nan',
  'huge',
  'endless',
] as const;

export type HostilePayload = (typeof HOSTILE_PAYLOADS)[number];

/** The default size of a `huge` node. */
export const HUGE_PODS = 6_000;

/** The uint64 "unknown" sentinel, as the kubelet writes it. */
const UINT64_MAX = '18446744073709551615';
/** How JSON.stringify writes the double that UINT64_MAX reads as. */
const UINT64_MAX_AS_DOUBLE = String(2 ** 64);

/** How often, and how much, an endless body trickles. */
const TRICKLE_MS = 100;

type Json = Record<string, unknown>;
type Endpoint = 'summary' | 'cadvisor_v1' | 'subcontainers' | 'metrics_resource' | 'metrics_cadvisor';

const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * Answers a request with the hostile payload for `endpoint`, built from this instant's summary. `timers` gets the
 * endless body's interval so that stopping the cluster ends it; `cache` keeps a huge payload once rendered.
 */
export function answerHostile(
  payload: HostilePayload,
  endpoint: Endpoint,
  summaryText: () => string,
  response: ServerResponse,
  timers: Set<NodeJS.Timeout>,
  cache: Map<string, Buffer>,
  hugePods = HUGE_PODS,
): void {
  const json = endpoint === 'summary' || endpoint === 'cadvisor_v1' || endpoint === 'subcontainers';
  const contentType = json ? 'application/json' : PROMETHEUS_TEXT;
  if (payload === 'endless') {
    trickleForever(response, contentType, json ? '{"node":{"nodeName":"' : '# HELP ', timers);
    return;
  }
  const cacheKey = `${payload}:${endpoint}:${hugePods}`;
  let body = cache.get(cacheKey);
  if (body === undefined) {
    body = Buffer.from(hostileBody(payload, endpoint, summaryText(), hugePods));
    if (payload === 'huge') cache.set(cacheKey, body);
  }
  response.writeHead(200, { 'content-type': contentType, 'content-length': body.length });
  response.end(body);
}

/**
 * The body of a hostile answer on `endpoint` (any payload but `endless`, which never ends), built from
 * `summaryText`; exported so that decoders can be tested on exactly what the simulator serves.
 *
 * @example
 * const body = hostileBody('uint64_sentinel', 'summary', node.render(Date.now()), HUGE_PODS);
 */
export function hostileBody(
  payload: Exclude<HostilePayload, 'endless'>,
  endpoint: Endpoint,
  summaryText: string,
  hugePods: number,
): string {
  const summary = JSON.parse(summaryText) as Json;
  if (payload === 'huge') multiplyPods(summary, hugePods);
  if (payload === 'uint64_sentinel') putSentinels(summary);
  if (payload === 'label_types' && endpoint === 'summary') breakPodRef(summary);
  if (payload === 'negative_counters') negateCounters(summary);
  let body: string;
  switch (endpoint) {
    case 'summary':
      body = JSON.stringify(summary, payload === 'only_nan' ? nullNumbers : undefined);
      break;
    case 'cadvisor_v1':
    case 'subcontainers': {
      const infos = renderCadvisorV1(summary);
      if (payload === 'label_types') breakSpecLabels(infos);
      const value = endpoint === 'cadvisor_v1' ? infos : Object.values(infos);
      body = JSON.stringify(value, payload === 'only_nan' ? nullNumbers : undefined);
      break;
    }
    case 'metrics_resource':
    case 'metrics_cadvisor': {
      body =
        endpoint === 'metrics_resource' ? renderMetricsResource(summary) : renderMetricsCadvisor(summary);
      if (payload === 'only_nan') body = allSamplesNaN(body);
      break;
    }
  }
  return payload === 'uint64_sentinel' ? body.replaceAll(UINT64_MAX_AS_DOUBLE, UINT64_MAX) : body;
}

/** Which endpoint a request is for, or undefined for a path a kubelet does not serve. */
export function endpointOf(method: string | undefined, path: string): Endpoint | undefined {
  if (method === 'POST' && (path === '/stats/container/' || path === '/stats/container'))
    return 'cadvisor_v1';
  if (method !== 'GET') return undefined;
  if (path === '/stats/summary' || path === '/stats/summary/') return 'summary';
  if (path === '/api/v1.3/subcontainers/' || path === '/api/v1.3/subcontainers') return 'subcontainers';
  if (path === '/metrics/resource') return 'metrics_resource';
  if (path === '/metrics/cadvisor') return 'metrics_cadvisor';
  return undefined;
}

function trickleForever(
  response: ServerResponse,
  contentType: string,
  start: string,
  timers: Set<NodeJS.Timeout>,
): void {
  // No content-length: chunked, so the client cannot know the body will never end.
  response.writeHead(200, { 'content-type': contentType });
  response.write(start);
  const timer = setInterval(() => response.write('x'), TRICKLE_MS);
  timers.add(timer);
  response.on('close', () => {
    clearInterval(timer);
    timers.delete(timer);
  });
}

const objects = (value: unknown): Json[] => (Array.isArray(value) ? value.filter(isPlainObject) : []);

/** `pods` pods, copies of the template's with their own names and uids. */
function multiplyPods(summary: Json, pods: number): void {
  const template = objects(summary['pods']);
  if (template.length === 0) return;
  const out: Json[] = [];
  for (let i = 0; i < pods; i++) {
    const pod = structuredClone(template[i % template.length]!);
    const ref = pod['podRef'];
    if (isPlainObject(ref)) {
      pod['podRef'] = {
        ...ref,
        name: `${String(ref['name'])}-h${i}`,
        uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      };
    }
    out.push(pod);
  }
  summary['pods'] = out;
}

function putSentinels(summary: Json): void {
  const node = summary['node'];
  if (isPlainObject(node) && isPlainObject(node['fs'])) node['fs']['capacityBytes'] = 2 ** 64;
  for (const pod of objects(summary['pods'])) {
    const container = objects(pod['containers'])[0];
    if (container !== undefined && isPlainObject(container['memory'])) {
      container['memory']['usageBytes'] = 1.2e32;
      return;
    }
  }
}

/** The first pod's name becomes a number and the second's namespace an array. */
function breakPodRef(summary: Json): void {
  const pods = objects(summary['pods']);
  const first = pods[0]?.['podRef'];
  if (isPlainObject(first)) first['name'] = 12345;
  const second = pods[1]?.['podRef'];
  if (isPlainObject(second)) second['namespace'] = ['kube-system', 'default'];
}

const POD_NAME_LABEL = 'io.kubernetes.pod.name';
const POD_NAMESPACE_LABEL = 'io.kubernetes.pod.namespace';

/** In every container's spec.labels, the pod's name becomes a number, and in every other its namespace an array. */
function breakSpecLabels(infos: Record<string, unknown>): void {
  let k = 0;
  for (const info of Object.values(infos)) {
    if (!isPlainObject(info) || !isPlainObject(info['spec'])) continue;
    const labels = info['spec']['labels'];
    if (!isPlainObject(labels) || labels[POD_NAME_LABEL] === undefined) continue;
    if (k++ % 2 === 0) labels[POD_NAME_LABEL] = 12345;
    else labels[POD_NAMESPACE_LABEL] = ['kube-system', 'default'];
  }
}

const COUNTERS = new Set(['usageCoreNanoSeconds', 'rxBytes', 'txBytes', 'rxErrors', 'txErrors']);

/** Every CPU and network counter of the summary, negated (the renderers carry them to the other endpoints). */
function negateCounters(value: unknown): void {
  if (Array.isArray(value)) {
    for (const item of value) negateCounters(item);
    return;
  }
  if (!isPlainObject(value)) return;
  for (const [key, item] of Object.entries(value)) {
    if (COUNTERS.has(key) && typeof item === 'number') value[key] = -Math.max(item, 1);
    else negateCounters(item);
  }
}

/** JSON has no NaN: JSON.stringify writes it as null, which is what this replacer makes of every number. */
function nullNumbers(_key: string, value: unknown): unknown {
  return typeof value === 'number' ? null : value;
}

/** Every sample's value NaN, timestamps kept. */
function allSamplesNaN(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      if (line === '' || line.startsWith('#')) return line;
      const close = line.lastIndexOf('}');
      const space = line.indexOf(' ', close >= 0 ? close : 0);
      if (space < 0) return line;
      const rest = line.slice(space + 1).split(' ');
      return `${line.slice(0, space)} NaN${rest.length > 1 ? ` ${rest[1]}` : ''}`;
    })
    .join('\n');
}
