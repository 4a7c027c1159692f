import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import kafkajs, { type KafkaConfig, type LogEntry, type SASLOptions } from 'kafkajs';
import { z } from 'zod';
import { readSecret } from './secrets.js';
import type { Logger } from './logger.js';
import { ConfigError } from './errors.js';

/**
 * How the Kafka sink and the Kafka source reach brokers: the keys they share (brokers, SASL, TLS) and the kafkajs
 * client settings made from them.
 */
export const kafkaBrokersSchema = z
  .array(z.string().regex(/^(\[[^\]]+\]|[^\s:[\]]+):\d+$/, 'a broker is host:port, e.g. kafka-0:9092'))
  .min(1)
  .describe('Bootstrap brokers, host:port; the rest of the cluster is discovered from them.');

export const kafkaSaslSchema = z
  .strictObject({
    mechanism: z
      .enum(['plain', 'scram-sha-256', 'scram-sha-512'])
      .describe('SASL mechanism: plain, scram-sha-256 or scram-sha-512.'),
    username: z.string().min(1).describe('SASL user name.'),
    password: z
      .string()
      .min(1)
      .optional()
      .describe('SASL password; write it as ${env:NAME}, never inline. Or use password_file.'),
    password_file: z
      .string()
      .min(1)
      .optional()
      .describe("File holding the SASL password (trimmed); relative to the pipeline file's directory."),
  })
  .superRefine((value, ctx) => {
    if ((value.password === undefined) === (value.password_file === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'give exactly one of password or password_file' });
    }
  });

export const kafkaTlsSchema = z
  .strictObject({
    ca_file: z
      .string()
      .min(1)
      .optional()
      .describe('PEM CA bundle to verify the brokers with; the system CAs if absent.'),
    cert_file: z.string().min(1).optional().describe('PEM client certificate, for mutual TLS.'),
    key_file: z.string().min(1).optional().describe('PEM private key of cert_file.'),
    server_name: z
      .string()
      .min(1)
      .optional()
      .describe("Name to verify the brokers' certificates against, when it differs from the address."),
    insecure_skip_verify: z
      .boolean()
      .default(false)
      .describe('Accept any broker certificate. For tests only: anyone on the path can read the data.'),
  })
  .superRefine((value, ctx) => {
    if ((value.cert_file === undefined) !== (value.key_file === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'cert_file and key_file go together: give both or neither' });
    }
  });

type KafkaSasl = z.output<typeof kafkaSaslSchema>;
type KafkaTls = z.output<typeof kafkaTlsSchema>;

/** The keys a Kafka client is made from, as the sink's and the source's schemas give them. */
export interface KafkaConnectionConfig {
  readonly client_id: string;
  readonly brokers: string[];
  readonly connect_timeout: number;
  readonly request_timeout: number;
  readonly sasl?: KafkaSasl | undefined;
  readonly tls?: KafkaTls | undefined;
}

const { logLevel } = kafkajs;

/**
 * The kafkajs client settings of a Kafka sink or source: its brokers, timeouts, SASL and TLS (files read now, so a missing
 * file is a configuration error at start-up), and its logs routed to ours.
 *
 * @example
 * const kafka = new Kafka(kafkaClientConfig(config, ctx.logger, ctx.baseDir));
 */
export function kafkaClientConfig(
  config: KafkaConnectionConfig,
  logger: Logger,
  baseDir: string,
): KafkaConfig {
  const client: KafkaConfig = {
    clientId: config.client_id,
    brokers: config.brokers,
    connectionTimeout: config.connect_timeout,
    requestTimeout: config.request_timeout,
    // A few quick retries inside kafkajs ride over a leader election; longer outages are the sink runner's
    // (or the source's reconnect loop's) to retry, so that no send outlives the write that started it for long.
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

function saslOptions(sasl: KafkaSasl, baseDir: string): SASLOptions {
  const password = readSecret(sasl.password, sasl.password_file, baseDir, 'sasl.password');
  // The schema requires exactly one of password and password_file: only reading the file can fail here.
  if (password === undefined) throw new Error('sasl: no password (the schema requires one)');
  return { mechanism: sasl.mechanism, username: sasl.username, password };
}

function tlsOptions(tls: KafkaTls, baseDir: string): ConnectionOptions {
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
