import { defineSource } from '../../src/component/component.js';
import { prometheusSourceConfig } from './config.js';
import { prometheusSource } from './prometheus-source.js';

/**
 * `type: kubelet_prometheus` — scrapes every node's kubelet `/metrics/resource` or `/metrics/cadvisor`
 * (Prometheus text) each cycle and maps it to Heapster's metric sets.
 */
export default defineSource({
  type: 'kubelet_prometheus',
  description:
    "Scrapes every node's kubelet /metrics/resource or /metrics/cadvisor (Prometheus text) once per cycle.",
  config: prometheusSourceConfig,
  create: prometheusSource,
});
