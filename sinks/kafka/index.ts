import { defineSink } from '../../src/component/component.js';
import { kafkaSinkConfig } from './config.js';
import { kafkaSink } from './kafka-sink.js';

/** `type: kafka` — metric sets to Kafka as JSON: per set, per value (Heapster's format) or per batch. */
export default defineSink({
  type: 'kafka',
  description:
    'Produces metric sets to Kafka as JSON: one message per set, per value (Heapster format) or per batch; ' +
    'idempotent producer, acks from all in-sync replicas, SASL and TLS.',
  config: kafkaSinkConfig,
  // The writes in flight share produce requests (up to max_message_bytes): one in flight would send a request
  // per node batch. See the README's Throughput section.
  runnerDefaults: { max_in_flight: 16 },
  create: (config, ctx) => kafkaSink(config, ctx),
});
