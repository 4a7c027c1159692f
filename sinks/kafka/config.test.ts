import { describe, expect, it } from 'vitest';
import { kafkaSinkConfig } from './config.js';
import { parsePipelineConfig } from '../../src/config/load.js';
import { pipelineJsonSchema } from '../../src/config/json-schema.js';
import { createBuiltinRegistry } from '../../src/builtins.js';

describe('kafka sink config', () => {
  it('defaults: set format, node keys, acks -1, idempotent, 1 MB requests', () => {
    expect(kafkaSinkConfig.parse({ brokers: ['kafka-0:9092'] })).toEqual({
      brokers: ['kafka-0:9092'],
      topic: 'heapstream-metrics',
      client_id: 'heapstream',
      format: 'set',
      key: 'node',
      compression: 'none',
      acks: -1,
      idempotent: true,
      max_message_bytes: 1_000_000,
      connect_timeout: 10_000,
      request_timeout: 10_000,
    });
  });

  it.each([
    [{ brokers: [] }, 'brokers'],
    [{ brokers: ['kafka-0'] }, 'a broker is host:port'],
    [{ brokers: ['k:1'], acks: 1 }, 'the idempotent producer needs acks: -1'],
    [{ brokers: ['k:1'], format: 'batch', key: 'pod' }, 'key it by node or none'],
    [
      { brokers: ['k:1'], format: 'batch', topic_per_type: { pod: 'p' } },
      'format batch mixes every set type',
    ],
    [{ brokers: ['k:1'], topic_per_type: { pods: 'p' } }, 'pods'],
    [{ brokers: ['k:1'], compression: 'snappy' }, 'compression'],
    [{ brokers: ['k:1'], sasl: { mechanism: 'plain', username: 'u' } }, 'password or password_file'],
    [
      { brokers: ['k:1'], sasl: { mechanism: 'plain', username: 'u', password: 'p', password_file: 'f' } },
      'exactly one',
    ],
    [{ brokers: ['k:1'], tls: { cert_file: 'c.pem' } }, 'cert_file and key_file go together'],
  ])('rejects %j', (input, fragment) => {
    const result = kafkaSinkConfig.safeParse(input);
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toContain(fragment);
  });

  it('accepts acks 1 without idempotence, IPv6 brokers, SASL and TLS', () => {
    const config = kafkaSinkConfig.parse({
      brokers: ['[::1]:9092', 'kafka-1:9093'],
      acks: 1,
      idempotent: false,
      sasl: { mechanism: 'scram-sha-512', username: 'heapstream', password_file: 'secret/pw' },
      tls: { ca_file: 'ca.pem', insecure_skip_verify: false },
    });
    expect(config.acks).toBe(1);
    expect(config.tls?.insecure_skip_verify).toBe(false);
  });
});

describe('kafka sink runner defaults', () => {
  const registry = createBuiltinRegistry();
  const options = (sinkYaml: string) =>
    parsePipelineConfig(
      `source: { type: kubelet_summary, discovery: { simulated: { nodes: 1 } } }\nsinks:\n  out: ${sinkYaml}\n`,
      'pipeline.yaml',
      registry,
      {},
    ).sinks[0]?.options;

  it('runs 16 writes in flight unless the user says otherwise; other sinks keep the engine default of 1', () => {
    expect(options('{ type: kafka, brokers: ["k:9092"] }')?.max_in_flight).toBe(16);
    expect(options('{ type: kafka, brokers: ["k:9092"], max_in_flight: 1 }')?.max_in_flight).toBe(1);
    expect(options('{ type: stdout }')?.max_in_flight).toBe(1);
  });

  it('shows its own default in the JSON Schema', () => {
    const schema = JSON.stringify(pipelineJsonSchema(registry));
    const members = (JSON.parse(schema) as SchemaWithSinks).properties.sinks.additionalProperties.oneOf;
    const inFlightDefault = (type: string) =>
      members.find((m) => m.properties.type.const === type)?.properties.max_in_flight?.default;
    expect(inFlightDefault('kafka')).toBe(16);
    expect(inFlightDefault('stdout')).toBe(1);
  });
});

interface SchemaWithSinks {
  properties: {
    sinks: {
      additionalProperties: {
        oneOf: { properties: { type: { const: string }; max_in_flight?: { default?: number } } }[];
      };
    };
  };
}
