import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import kafkajs from 'kafkajs';
import { removeOnExit } from './cleanup.js';
import { ensureKafkaJars, kafkaVersion } from './kafka-install.js';
import { makeServiceTempDir } from './paths.js';
import { freeLoopbackPort } from './ports.js';
import { ManagedProcess, progress, runCommand } from './process.js';

const { Kafka, logLevel } = kafkajs;

/** A running single-node Kafka broker (KRaft, broker and controller in one JVM) on 127.0.0.1. */
export interface KafkaService {
  /** `127.0.0.1:PORT`, for `brokers: [bootstrap]`. */
  readonly bootstrap: string;
  /** The broker's stdout/stderr, appended across restarts. */
  readonly logFile: string;
  /** Graceful shutdown (SIGTERM); the data dir is kept for start(). */
  stop(): Promise<void>;
  /** Starts again on the same ports and data dir after stop() or kill(); waits until the broker answers. */
  start(): Promise<void>;
  /** stop() then start(), to test client reconnects. */
  restart(): Promise<void>;
  /** SIGKILL, as a crash would; start() recovers from the same data dir. */
  kill(): Promise<void>;
}

export interface KafkaOptions {
  readonly clusterId?: string;
  /**
   * The broker's group.min.session.timeout.ms (Kafka's default: 6 s), for tests whose consumer groups must notice a
   * killed member within a short cycle.
   */
  readonly groupMinSessionTimeoutMs?: number;
}

const READY_TIMEOUT_MS = 120_000;
const log4jConfig = fileURLToPath(new URL('./kafka/log4j.properties', import.meta.url));

function serverProperties(
  dataDir: string,
  port: number,
  controllerPort: number,
  options: KafkaOptions,
): string {
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    `log.dirs=${dataDir}`,
    'num.partitions=1',
    'auto.create.topics.enable=true',
    'offsets.topic.replication.factor=1',
    // One partition instead of 50: the first consumer group joins in a second, not ten.
    'offsets.topic.num.partitions=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=1',
    'min.insync.replicas=1',
    'group.initial.rebalance.delay.ms=0',
    // After kill() the controller keeps the dead broker's registration until its session times out (9 s by
    // default); a short session lets start() after a crash be as quick as after a clean stop.
    'broker.heartbeat.interval.ms=500',
    'broker.session.timeout.ms=2000',
    ...(options.groupMinSessionTimeoutMs === undefined
      ? []
      : [`group.min.session.timeout.ms=${options.groupMinSessionTimeoutMs}`]),
    '',
  ].join('\n');
}

function javaArgs(libs: string, mainClass: string, args: readonly string[]): string[] {
  return [
    '-Xms128m',
    '-Xmx512m',
    // Two shared cores: a serial collector and the C1 compiler start faster and stay out of the way.
    '-XX:+UseSerialGC',
    '-XX:TieredStopAtLevel=1',
    '-Djava.awt.headless=true',
    `-Dlog4j.configuration=file:${log4jConfig}`,
    '-cp',
    // Expanded by the JVM itself, not by a shell.
    join(libs, '*'),
    mainClass,
    ...args,
  ];
}

async function answersListTopics(bootstrap: string): Promise<boolean> {
  const admin = new Kafka({
    clientId: 'heapstream-test-probe',
    brokers: [bootstrap],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1_000,
    requestTimeout: 3_000,
    retry: { retries: 0 },
  }).admin();
  try {
    await admin.connect();
    await admin.listTopics();
    return true;
  } finally {
    await admin.disconnect();
  }
}

/**
 * Starts a real Kafka broker (version pinned in test/services/kafka/pom.xml) on free loopback ports, with its data
 * in a temp dir that is removed when the test process exits. Fetches the broker jars into `.cache/` on first use.
 *
 * @example
 * const kafka = await startKafka();
 * const producer = new Kafka({ brokers: [kafka.bootstrap] }).producer();
 * // …
 * await kafka.stop();
 */
export async function startKafka(options: KafkaOptions = {}): Promise<KafkaService> {
  const libs = await ensureKafkaJars();
  const dir = makeServiceTempDir('kafka');
  removeOnExit(dir);
  const [port, controllerPort] = [await freeLoopbackPort(), await freeLoopbackPort()];
  const configFile = join(dir, 'server.properties');
  writeFileSync(configFile, serverProperties(join(dir, 'data'), port, controllerPort, options));
  const logFile = join(dir, 'kafka.log');
  const bootstrap = `127.0.0.1:${port}`;

  // Base64url ids can start with '-'; `--cluster-id=<id>` keeps argparse from reading such an id as an option
  // (the separate-argument form failed CI about one run in 64).
  const clusterId = options.clusterId ?? randomBytes(16).toString('base64url');
  await runCommand(
    'java',
    javaArgs(libs, 'kafka.tools.StorageTool', [
      'format',
      `--cluster-id=${clusterId}`,
      '--config',
      configFile,
    ]),
    { what: 'formatting the Kafka storage directory' },
  );

  const proc = new ManagedProcess({
    name: `kafka ${kafkaVersion()} (${bootstrap})`,
    command: 'java',
    args: javaArgs(libs, 'kafka.Kafka', [configFile]),
    logFile,
  });

  const start = async (): Promise<void> => {
    if (proc.running) return;
    const started = Date.now();
    proc.start();
    await proc.waitUntilReady(() => answersListTopics(bootstrap), READY_TIMEOUT_MS);
    progress(
      `kafka ${kafkaVersion()} ready on ${bootstrap} in ${((Date.now() - started) / 1000).toFixed(1)}s`,
    );
  };
  const stop = (): Promise<void> => proc.stop();

  await start();
  return {
    bootstrap,
    logFile,
    start,
    stop,
    kill: () => proc.kill(),
    restart: async () => {
      await stop();
      await start();
    },
  };
}
