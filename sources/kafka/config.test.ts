import { EMPTY } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/component/errors.js';
import { testContext } from '../../src/testing/context.js';
import { kafkaSourceConfig } from './config.js';
import { kafkaSource } from './kafka-source.js';

describe('kafka source config', () => {
  it('fills the defaults and refuses a broker without a port', () => {
    expect(kafkaSourceConfig.parse({ brokers: ['k:9092'] })).toMatchObject({
      topic: 'heapstream-metrics',
      group_id: 'heapstream',
      from_beginning: false,
      session_timeout: 30_000,
    });
    expect(kafkaSourceConfig.safeParse({ brokers: ['k'] }).success).toBe(false);
    expect(kafkaSourceConfig.safeParse({ brokers: ['k:9092'], groupid: 'x' }).success).toBe(false);
  });

  it('shares the sink’s SASL and TLS keys, and reads their files at start: a missing one is a ConfigError', () => {
    const sasl = { mechanism: 'plain', username: 'hs', password: 'p', password_file: 'f' };
    expect(kafkaSourceConfig.safeParse({ brokers: ['k:9092'], sasl }).success).toBe(false);
    const config = kafkaSourceConfig.parse({ brokers: ['k:9092'], tls: { ca_file: 'no-such-ca.pem' } });
    const ctx = { ...testContext(), ticks: EMPTY, provideMetadata: () => undefined };
    expect(() => kafkaSource(config, ctx)).toThrow(ConfigError);
    expect(() => kafkaSource(config, ctx)).toThrow(/tls\.ca_file: cannot read .*no-such-ca\.pem/);
  });
});
