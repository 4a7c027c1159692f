import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findExecutable } from './apt.js';
import { ServiceError } from './errors.js';
import { cacheDir } from './paths.js';
import { progress, runCommand } from './process.js';

const pomPath = fileURLToPath(new URL('./kafka/pom.xml', import.meta.url));

/** The Kafka version pinned in test/services/kafka/pom.xml. */
export function kafkaVersion(): string {
  const match = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(readFileSync(pomPath, 'utf8'));
  if (match?.[1] === undefined) throw new ServiceError(`${pomPath}: no <kafka.version> property`);
  return match[1];
}

function requireTool(binary: string, why: string): void {
  if (findExecutable(binary) === undefined) {
    throw new ServiceError(
      `${binary} is not installed; it is needed ${why} (on Debian: apt-get install -y ${binary === 'mvn' ? 'maven' : 'default-jre-headless'})`,
    );
  }
}

/**
 * Returns the directory holding the Kafka broker's jars, downloading them from Maven Central with Maven first if
 * they are not cached yet (`.cache/kafka/<version>/libs`). Safe to call from parallel test processes: each
 * downloads into its own directory and the first to finish renames it into place.
 *
 * @example
 * const libs = await ensureKafkaJars(); // '<repo>/.cache/kafka/3.9.2/libs'
 */
export async function ensureKafkaJars(): Promise<string> {
  const version = kafkaVersion();
  const versionDir = join(cacheDir, 'kafka', version);
  const libs = join(versionDir, 'libs');
  if (existsSync(join(libs, `kafka_2.13-${version}.jar`))) return libs;

  requireTool('java', 'to run the Kafka broker');
  requireTool('mvn', 'to fetch the Kafka broker jars from Maven Central');
  const started = Date.now();
  progress(
    `Kafka ${version} jars not cached: fetching org.apache.kafka:kafka_2.13 and its dependencies with Maven…`,
  );
  mkdirSync(versionDir, { recursive: true });
  const staging = join(versionDir, `libs.partial-${process.pid}-${Date.now()}`);
  try {
    await runCommand(
      'mvn',
      [
        '-q',
        '-B',
        '-f',
        pomPath,
        'dependency:copy-dependencies',
        '-DincludeScope=runtime',
        `-DoutputDirectory=${staging}`,
      ],
      { what: `fetching Kafka ${version} jars from Maven Central` },
    );
    if (!existsSync(join(staging, `kafka_2.13-${version}.jar`))) {
      throw new ServiceError(`Maven finished but ${staging} has no kafka_2.13-${version}.jar`);
    }
    try {
      renameSync(staging, libs);
    } catch (err) {
      // Another test process finished first; its copy is as good as ours.
      if (!existsSync(join(libs, `kafka_2.13-${version}.jar`))) throw err;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  progress(`cached Kafka ${version} jars in ${((Date.now() - started) / 1000).toFixed(1)}s: ${libs}`);
  return libs;
}
