import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { removeOnExit } from './cleanup.js';
import { makeServiceTempDir } from './paths.js';
import { freeLoopbackPort } from './ports.js';
import { ManagedProcess, progress } from './process.js';
import { ensureWeedBinary, SEAWEEDFS_VERSION } from './seaweedfs-install.js';

/** A running SeaweedFS (`weed mini`: master, volume, filer, S3 and its Iceberg REST catalog) on 127.0.0.1. */
export interface SeaweedFSService {
  /** `http://127.0.0.1:PORT`, the S3 endpoint (path-style addressing). */
  readonly s3Endpoint: string;
  /** `http://127.0.0.1:PORT`, the Iceberg REST catalog. */
  readonly icebergUri: string;
  /** The domain for virtual-hosted addressing: `<bucket>.<domain>` (resolve it to 127.0.0.1 yourself). */
  readonly virtualHostDomain: string;
  /** `us-east-1`: SeaweedFS accepts any region; this is the one signed with. */
  readonly region: string;
  /** Keys of an admin identity configured in the server; requests signed with others get 403. */
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** The server's stdout/stderr, appended across restarts. */
  readonly logFile: string;
  /** The temp dir holding the data, for writing credential files beside it. */
  readonly dir: string;
  /** Graceful shutdown (SIGTERM); the data dir is kept for start(). */
  stop(): Promise<void>;
  /** Starts again on the same ports and data after stop() or kill(); waits until S3 answers. */
  start(): Promise<void>;
  /** SIGKILL, as a crash would. */
  kill(): Promise<void>;
}

const READY_TIMEOUT_MS = 120_000;
const VIRTUAL_HOST_DOMAIN = 's3.heapstream.test';

/** True once the S3 port answers an unsigned request with any S3 answer (403 AccessDenied counts: it is up). */
async function s3Answers(endpoint: string): Promise<boolean> {
  const response = await request(`${endpoint}/`, {
    method: 'GET',
    headersTimeout: 2_000,
    bodyTimeout: 2_000,
  });
  const text = await response.body.text();
  return response.statusCode < 500 && /<\?xml|<Error|<ListAllMyBucketsResult/.test(text);
}

/**
 * Starts a real SeaweedFS (`weed mini`, built from the Go module proxy into `.cache/seaweedfs/` on first use, or
 * $HEAPSTREAM_WEED_BIN) on free loopback ports, with one S3 admin identity whose keys are in the result and its
 * data in a temp dir removed when the test process exits. The S3 API checks every signature.
 *
 * @example
 * const weed = await startSeaweedFS();
 * const store = new S3ObjectStore({ bucket: 'lake', endpoint: weed.s3Endpoint, region: weed.region,
 *   forcePathStyle: true, credentials: environmentCredentials({ AWS_ACCESS_KEY_ID: weed.accessKeyId, … }) });
 * await weed.stop();
 */
export async function startSeaweedFS(
  options: { readonly tableBuckets?: readonly string[] } = {},
): Promise<SeaweedFSService> {
  const weed = await ensureWeedBinary();
  const dir = makeServiceTempDir('seaweedfs');
  removeOnExit(dir);
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir);
  const accessKeyId = `HS${randomBytes(8).toString('hex').toUpperCase()}`;
  const secretAccessKey = randomBytes(24).toString('base64url');
  const s3Config = join(dir, 's3.json');
  writeFileSync(
    s3Config,
    JSON.stringify({
      identities: [
        {
          name: 'heapstream-test',
          credentials: [{ accessKey: accessKeyId, secretKey: secretAccessKey }],
          actions: ['Admin', 'Read', 'Write', 'List', 'Tagging'],
        },
      ],
    }),
  );

  const ports: number[] = [];
  for (let i = 0; i < 12; i++) ports.push(await freeLoopbackPort());
  const [master, masterGrpc, volume, volumeGrpc, filer, filerGrpc, s3, s3Grpc, iceberg, admin, adminGrpc] =
    ports;
  const args = [
    'mini',
    '-ip=127.0.0.1',
    '-ip.bind=127.0.0.1',
    `-dir=${dataDir}`,
    `-s3.config=${s3Config}`,
    `-master.port=${master}`,
    `-master.port.grpc=${masterGrpc}`,
    '-master.telemetry=false',
    `-volume.port=${volume}`,
    `-volume.port.grpc=${volumeGrpc}`,
    `-filer.port=${filer}`,
    `-filer.port.grpc=${filerGrpc}`,
    `-filer.localSocket=${join(dir, 'filer.sock')}`,
    `-s3.port=${s3}`,
    `-s3.port.grpc=${s3Grpc}`,
    `-s3.port.iceberg=${iceberg}`,
    '-s3.port.lance=0',
    `-s3.domainName=${VIRTUAL_HOST_DOMAIN}`,
    `-s3.localSocket=${join(dir, 's3.sock')}`,
    `-admin.port=${admin}`,
    `-admin.port.grpc=${adminGrpc}`,
    '-admin.port.legacy=0',
    '-admin.ui=false',
    '-webdav=false',
    // S3 Tables buckets, which the Iceberg REST catalog serves as warehouses (`s3://<bucket>`).
    ...(options.tableBuckets !== undefined && options.tableBuckets.length > 0
      ? [`-tableBucket=${options.tableBuckets.join(',')}`]
      : []),
  ];
  const logFile = join(dir, 'weed.log');
  const s3Endpoint = `http://127.0.0.1:${s3}`;
  const proc = new ManagedProcess({
    name: `seaweedfs ${SEAWEEDFS_VERSION} (${s3Endpoint})`,
    command: weed,
    args,
    logFile,
    cwd: dir,
    // A developer's AWS_* or S3_* variables must not configure the server.
    env: Object.fromEntries(
      Object.entries(process.env).filter(([key]) => !key.startsWith('AWS_') && !key.startsWith('S3_')),
    ),
  });

  const start = async (): Promise<void> => {
    if (proc.running) return;
    const started = Date.now();
    proc.start();
    await proc.waitUntilReady(() => s3Answers(s3Endpoint), READY_TIMEOUT_MS);
    progress(`seaweedfs ready on ${s3Endpoint} in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  };
  await start();
  return {
    s3Endpoint,
    icebergUri: `http://127.0.0.1:${iceberg}`,
    virtualHostDomain: VIRTUAL_HOST_DOMAIN,
    region: 'us-east-1',
    accessKeyId,
    secretAccessKey,
    logFile,
    dir,
    start,
    stop: () => proc.stop(),
    kill: () => proc.kill(),
  };
}
