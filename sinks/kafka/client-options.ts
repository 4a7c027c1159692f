import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import kafkajs, { type KafkaConfig, type LogEntry, type SASLOptions } from 'kafkajs';
import { readSecret } from '../../src/component/secrets.js';
import type { Logger } from '../../src/component/logger.js';
import { ConfigError } from '../../src/component/errors.js';
import type { KafkaSinkConfig } from './config.js';

const { logLevel } = kafkajs;

/**
 * The kafkajs client settings for a sink: its brokers, timeouts, SASL and TLS (files read now, so a missing
 * file is a configuration error at start-up), and its logs routed to ours.
 *
 * @example
 * const kafka = new Kafka(kafkaClientConfig(config, ctx.logger, ctx.baseDir));
 */
export function kafkaClientConfig(config: KafkaSinkConfig, logger: Logger, baseDir: string): KafkaConfig {
  const client: KafkaConfig = {
    clientId: config.client_id,
    brokers: config.brokers,
    connectionTimeout: config.connect_timeout,
    requestTimeout: config.request_timeout,
    // A few quick retries inside kafkajs ride over a leader election; longer outages are the sink runner's
    // to retry, with its backoff and counters, so that no send outlives the write that started it for long.
    retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1_000 },
    ...kafkaLogging(logger),
  };
  if (config.sasl !== undefined) client.sasl = saslOptions(config.sasl, baseDir);
  if (config.tls !== undefined) client.ssl = tlsOptions(config.tls, baseDir);
  return client;
}

/**
 * kafkajs reports connection attempts during warm-up and reconnects as ERROR; the sink runner already reports
 * what matters (retries, failures), so kafkajs' own lines go to our debug level (its chatter to trace).
 */
function kafkaLogging(logger: Logger): Pick<KafkaConfig, 'logLevel' | 'logCreator'> {
  const level = logger.isLevelEnabled('trace')
    ? logLevel.DEBUG
    : logger.isLevelEnabled('debug')
      ? logLevel.WARN
      : logLevel.NOTHING;
  return {
    logLevel: level,
    logCreator: () => (entry: LogEntry) => {
      const { message, timestamp: _timestamp, ...fields } = entry.log;
      const bindings = { kafkajs: entry.namespace, kafkajsLevel: entry.label, ...fields };
      if (entry.level <= logLevel.WARN) logger.debug(bindings, message);
      else logger.trace(bindings, message);
    },
  };
}

function saslOptions(sasl: NonNullable<KafkaSinkConfig['sasl']>, baseDir: string): SASLOptions {
  const password = readSecret(sasl.password, sasl.password_file, baseDir, 'sasl.password');
  // The schema requires exactly one of password and password_file: only reading the file can fail here.
  if (password === undefined) throw new Error('sasl: no password (the schema requires one)');
  return { mechanism: sasl.mechanism, username: sasl.username, password };
}

function tlsOptions(tls: NonNullable<KafkaSinkConfig['tls']>, baseDir: string): ConnectionOptions {
  const options: ConnectionOptions = { rejectUnauthorized: !tls.insecure_skip_verify };
  if (tls.ca_file !== undefined) options.ca = readPem(tls.ca_file, baseDir, 'tls.ca_file');
  if (tls.cert_file !== undefined) options.cert = readPem(tls.cert_file, baseDir, 'tls.cert_file');
  if (tls.key_file !== undefined) options.key = readPem(tls.key_file, baseDir, 'tls.key_file');
  if (tls.server_name !== undefined) options.servername = tls.server_name;
  return options;
}

function readPem(file: string, baseDir: string, key: string): string {
  const path = resolve(baseDir, file);
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError([`${key}: cannot read ${path}: ${reason}`], { cause: error });
  }
}
