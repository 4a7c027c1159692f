import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import kafkajs from 'kafkajs';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/component/logger.js';
import { ConfigError } from '../../src/component/errors.js';
import { kafkaClientConfig } from '../../src/component/kafka-client.js';
import { kafkaSinkConfig } from './config.js';

const { logLevel } = kafkajs;

function configWith(extra: Record<string, unknown>) {
  return kafkaSinkConfig.parse({ brokers: ['k:9092'], ...extra });
}

describe('kafkajs client settings', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kafka-sink-test-'));
  writeFileSync(join(dir, 'password'), 's3cret\n');
  writeFileSync(join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n');
  writeFileSync(join(dir, 'client.pem'), 'client cert');
  writeFileSync(join(dir, 'client-key.pem'), 'client key');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the SASL password from password_file, trimmed, relative to the pipeline directory', () => {
    const client = kafkaClientConfig(
      configWith({ sasl: { mechanism: 'scram-sha-256', username: 'hs', password_file: 'password' } }),
      silentLogger(),
      dir,
    );
    expect(client.sasl).toEqual({ mechanism: 'scram-sha-256', username: 'hs', password: 's3cret' });
    expect(client.ssl).toBeUndefined();
  });

  it('builds TLS options from the PEM files, verifying unless told not to', () => {
    const client = kafkaClientConfig(
      configWith({
        tls: {
          ca_file: 'ca.pem',
          cert_file: 'client.pem',
          key_file: 'client-key.pem',
          server_name: 'kafka.internal',
        },
      }),
      silentLogger(),
      dir,
    );
    expect(client.ssl).toEqual({
      rejectUnauthorized: true,
      ca: '-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n',
      cert: 'client cert',
      key: 'client key',
      servername: 'kafka.internal',
    });
    const insecure = kafkaClientConfig(
      configWith({ tls: { insecure_skip_verify: true } }),
      silentLogger(),
      dir,
    );
    expect(insecure.ssl).toEqual({ rejectUnauthorized: false });
  });

  it('a missing file is a configuration error naming the key and the path', () => {
    const missing = () =>
      kafkaClientConfig(configWith({ tls: { ca_file: 'nope.pem' } }), silentLogger(), dir);
    expect(missing).toThrow(ConfigError);
    expect(missing).toThrow(`tls.ca_file: cannot read ${join(dir, 'nope.pem')}`);
    expect(() =>
      kafkaClientConfig(
        configWith({ sasl: { mechanism: 'plain', username: 'u', password_file: 'none' } }),
        silentLogger(),
        dir,
      ),
    ).toThrow('sasl.password_file: cannot read');
  });

  it("routes kafkajs' errors and warnings to our debug level, and its chatter nowhere unless tracing", () => {
    const lines: { level: number; msg: string; kafkajs?: string }[] = [];
    const logger = pino(
      { level: 'debug' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(JSON.parse(chunk.toString('utf8')) as { level: number; msg: string });
          done();
        },
      }),
    );
    const client = kafkaClientConfig(configWith({}), logger, dir);
    expect(client.logLevel).toBe(logLevel.WARN);
    const log = client.logCreator?.(logLevel.WARN);
    log?.({
      namespace: 'Connection',
      level: logLevel.ERROR,
      label: 'ERROR',
      log: { timestamp: 'now', message: 'Connection error: connect ECONNREFUSED' },
    });
    expect(lines).toEqual([
      expect.objectContaining({
        level: 20,
        msg: 'Connection error: connect ECONNREFUSED',
        kafkajs: 'Connection',
      }),
    ]);
    expect(kafkaClientConfig(configWith({}), pino({ level: 'info' }), dir).logLevel).toBe(logLevel.NOTHING);
  });
});
