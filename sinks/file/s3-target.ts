import { join, resolve } from 'node:path';
import type { ComponentContext } from '../../src/component/component.js';
import {
  environmentCredentials,
  fileCredentials,
  webIdentityCredentials,
  webIdentityFromEnvironment,
  type CredentialProvider,
} from '../../src/component/s3/credentials.js';
import { S3ObjectStore } from '../../src/component/s3/s3-store.js';
import type { FileSinkConfig } from './config.js';
import { parseObjectPath } from './object-target.js';

type S3Config = NonNullable<FileSinkConfig['s3']>;
const S3_DEFAULTS: S3Config = {
  region: 'us-east-1',
  force_path_style: false,
  credentials: { source: 'env', profile: 'default' },
  multipart_threshold: 16 * 1024 * 1024,
  part_size: 8 * 1024 * 1024,
  max_staged_bytes: 4 * 1024 * 1024 * 1024,
};

function credentialsFor(s3: S3Config, baseDir: string): CredentialProvider {
  const credentials = s3.credentials;
  switch (credentials.source) {
    case 'env':
      return environmentCredentials();
    case 'file':
      // The schema requires `file` with source file.
      return fileCredentials(resolve(baseDir, credentials.file ?? ''), credentials.profile);
    case 'web_identity':
      return webIdentityCredentials(
        webIdentityFromEnvironment(s3.region, process.env, credentials.sts_endpoint),
      );
  }
}

/** The store and the local staging directory of an `s3://` target, or undefined for a local path. */
export function s3TargetFor(
  config: FileSinkConfig,
  ctx: ComponentContext,
):
  | {
      store: S3ObjectStore;
      stagingDir: string;
      credentials: CredentialProvider;
      /** `s3.max_staged_bytes`: past it, writes are refused until uploads catch up. */
      maxStagedBytes: number;
    }
  | undefined {
  const target = parseObjectPath(config.path);
  if (target === undefined) return undefined;
  const s3 = config.s3 ?? S3_DEFAULTS;
  const credentials = credentialsFor(s3, ctx.baseDir);
  const store = new S3ObjectStore({
    bucket: target.bucket,
    prefix: target.prefix,
    region: s3.region,
    ...(s3.endpoint === undefined ? {} : { endpoint: s3.endpoint }),
    forcePathStyle: s3.force_path_style,
    credentials,
    multipartThresholdBytes: s3.multipart_threshold,
    partBytes: s3.part_size,
  });
  const stagingDir =
    s3.staging_dir === undefined
      ? join(ctx.dataDir ?? resolve('heapstream-data'), 'staging', ctx.id)
      : resolve(ctx.baseDir, s3.staging_dir);
  return { store, stagingDir, credentials, maxStagedBytes: s3.max_staged_bytes };
}
