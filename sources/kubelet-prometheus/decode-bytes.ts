import type { DecodeOptions } from '../../src/model/decode-report.js';
import type { MetricSet } from '../../src/model/types.js';
import { decodePrometheusMetrics, type NodeInfo } from './decode.js';
import type { SystemContainerNaming } from '../../src/kube/payload/cgroup.js';

/** What decodePrometheusBytes takes besides the bytes: the same as decodePrometheusMetrics. */
export interface PrometheusDecodeExtra {
  /** When the answer arrived: the time of samples without a timestamp. */
  readonly responseTime: number;
  readonly naming: SystemContainerNaming;
}

/**
 * decodePrometheusMetrics from the response's bytes, in the shape a decode thread calls (the pipeline's
 * `workers:`): the bytes are read as UTF-8 there, as KubeletClient.get does on the main thread, so the sets and
 * errors are the same.
 *
 * @example
 * decodePrometheusBytes(bytes, { name: 'n1' }, { maxSets: 10_000 }, '/metrics/resource', { responseTime: Date.now(), naming: 'summary' })
 */
export function decodePrometheusBytes(
  bytes: Uint8Array,
  node: NodeInfo,
  options: DecodeOptions,
  what: string,
  extra: PrometheusDecodeExtra,
): MetricSet[] {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  return decodePrometheusMetrics(text, node, extra.responseTime, what, extra.naming, options);
}
