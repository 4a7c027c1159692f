import aggregate from '../processors/aggregate/index.js';
import filter from '../processors/filter/index.js';
import namespaceEnricher from '../processors/namespace-enricher/index.js';
import nodeEnricher from '../processors/node-enricher/index.js';
import podEnricher from '../processors/pod-enricher/index.js';
import rate from '../processors/rate/index.js';
import file from '../sinks/file/index.js';
import influxdb from '../sinks/influxdb/index.js';
import kafka from '../sinks/kafka/index.js';
import metricsApi from '../sinks/metrics-api/index.js';
import stdout from '../sinks/stdout/index.js';
import kubeletCadvisor from '../sources/kubelet-cadvisor/index.js';
import kubeletPrometheus from '../sources/kubelet-prometheus/index.js';
import kafkaSource from '../sources/kafka/index.js';
import kubeletSummary from '../sources/kubelet-summary/index.js';
import { Registry } from './component/registry.js';
import { startSimulatedCluster } from './sim/index.js';

/** A registry holding every built-in source, processor and sink, and the simulator for `discovery: { simulated }`. */
export function createBuiltinRegistry(): Registry {
  return new Registry()
    .register(
      kubeletSummary,
      kubeletCadvisor,
      kubeletPrometheus,
      kafkaSource,
      rate,
      podEnricher,
      namespaceEnricher,
      nodeEnricher,
      aggregate,
      filter,
      stdout,
      file,
      influxdb,
      kafka,
      metricsApi,
    )
    .provideSimulator(startSimulatedCluster);
}
