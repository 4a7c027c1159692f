import { defineSink } from '../../src/component/component.js';
import { influxSinkConfig } from './config.js';
import { influxSink } from './influx-sink.js';

/** `type: influxdb` — line protocol to InfluxDB 1.x (`api: v1`), or 2.x/3.x/1.8+ (`api: v2`), in Heapster's schema. */
export default defineSink({
  type: 'influxdb',
  description:
    "Writes metrics to InfluxDB as line protocol (v1 /write or v2 /api/v2/write), in Heapster's schema or one measurement per group.",
  config: influxSinkConfig,
  create: (config, ctx) => influxSink(config, ctx),
});
