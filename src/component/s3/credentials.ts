// Where S3 credentials come from. Never from the pipeline file itself: keys in YAML end up in git and in
// ConfigMaps. The three sources are the ones AWS's own tools read: the environment, a shared-credentials file with a
// profile, and a web identity token (EKS IRSA, or any OIDC issuer) exchanged at STS for temporary keys.
import { readFile } from 'node:fs/promises';
import { request } from 'undici';
import { HeapstreamError } from '../errors.js';
import type { AwsCredentials } from './sigv4.js';
import { textOf } from './xml.js';

/** Hands out credentials that are valid now; temporary ones are refreshed before they expire. */
export interface CredentialProvider {
  credentials(): Promise<AwsCredentials>;
}

/** Credentials could not be found or obtained; the message says from where. */
export class CredentialsError extends HeapstreamError {}

type Env = Readonly<Record<string, string | undefined>>;

/** AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and (for temporary keys) AWS_SESSION_TOKEN, read on every call. */
export function environmentCredentials(env: Env = process.env): CredentialProvider {
  return {
    credentials: () => {
      const accessKeyId = env['AWS_ACCESS_KEY_ID'];
      const secretAccessKey = env['AWS_SECRET_ACCESS_KEY'];
      if (!accessKeyId || !secretAccessKey) {
        return Promise.reject(
          new CredentialsError(
            'credentials.source env: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must both be set in the environment',
          ),
        );
      }
      const sessionToken = env['AWS_SESSION_TOKEN'] || undefined;
      return Promise.resolve({ accessKeyId, secretAccessKey, sessionToken });
    },
  };
}

/**
 * The sections of an AWS shared-credentials file (INI): `[profile]` headers, `key = value` lines, `#`/`;` comments.
 */
export function parseIni(text: string): Map<string, Map<string, string>> {
  const sections = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[\s*(?:profile\s+)?([^\]]+?)\s*\]$/.exec(line);
    if (header) {
      current = new Map();
      sections.set(header[1] ?? '', current);
      continue;
    }
    const equals = line.indexOf('=');
    if (current === undefined || equals < 0) continue;
    current.set(line.slice(0, equals).trim().toLowerCase(), line.slice(equals + 1).trim());
  }
  return sections;
}

/**
 * The profile's aws_access_key_id / aws_secret_access_key / aws_session_token from a shared-credentials file, read
 * again on every call so that a rotated file (a Kubernetes secret mount) takes effect without a restart.
 */
export function fileCredentials(path: string, profile: string): CredentialProvider {
  return {
    credentials: async () => {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new CredentialsError(`credentials.file: cannot read ${path}: ${reason}`, { cause: error });
      }
      const section = parseIni(text).get(profile);
      if (section === undefined) {
        throw new CredentialsError(`credentials.profile: ${path} has no profile [${profile}]`);
      }
      const accessKeyId = section.get('aws_access_key_id');
      const secretAccessKey = section.get('aws_secret_access_key');
      if (!accessKeyId || !secretAccessKey) {
        throw new CredentialsError(
          `credentials.file: profile [${profile}] of ${path} needs aws_access_key_id and aws_secret_access_key`,
        );
      }
      return { accessKeyId, secretAccessKey, sessionToken: section.get('aws_session_token') || undefined };
    },
  };
}

/** Settings of the web identity exchange; the defaults come from the variables EKS sets in an IRSA pod. */
export interface WebIdentityOptions {
  readonly roleArn: string;
  readonly tokenFile: string;
  readonly sessionName: string;
  /** The STS endpoint: `https://sts.<region>.amazonaws.com` by default. */
  readonly stsEndpoint: string;
  /** Refresh this long before the keys expire, so no request is signed with keys that die in flight. */
  readonly refreshBeforeMs?: number;
  readonly now?: () => number;
}

/** AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_SESSION_NAME, as EKS injects them, or an error naming them. */
export function webIdentityFromEnvironment(
  region: string,
  env: Env = process.env,
  stsEndpoint?: string,
): WebIdentityOptions {
  const roleArn = env['AWS_ROLE_ARN'];
  const tokenFile = env['AWS_WEB_IDENTITY_TOKEN_FILE'];
  if (!roleArn || !tokenFile) {
    throw new CredentialsError(
      'credentials.source web_identity: AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE must both be set in the environment',
    );
  }
  return {
    roleArn,
    tokenFile,
    sessionName: env['AWS_ROLE_SESSION_NAME'] || `heapstream-${process.pid}`,
    stsEndpoint: stsEndpoint ?? `https://sts.${region}.amazonaws.com`,
  };
}

/**
 * Exchanges the web identity token (re-read on each exchange: the kubelet rotates it) for temporary keys with STS
 * AssumeRoleWithWebIdentity, an unsigned call, and reuses them until `refreshBeforeMs` before they expire.
 */
export function webIdentityCredentials(options: WebIdentityOptions): CredentialProvider {
  const refreshBeforeMs = options.refreshBeforeMs ?? 5 * 60_000;
  const now = options.now ?? Date.now;
  let cached: AwsCredentials | undefined;
  let pending: Promise<AwsCredentials> | undefined;

  const assumeRole = async (): Promise<AwsCredentials> => {
    let token: string;
    try {
      token = (await readFile(options.tokenFile, 'utf8')).trim();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new CredentialsError(`web identity: cannot read the token file ${options.tokenFile}: ${reason}`, {
        cause: error,
      });
    }
    const body = new URLSearchParams({
      Action: 'AssumeRoleWithWebIdentity',
      Version: '2011-06-15',
      RoleArn: options.roleArn,
      RoleSessionName: options.sessionName,
      WebIdentityToken: token,
    }).toString();
    const what = `STS AssumeRoleWithWebIdentity at ${options.stsEndpoint} for ${options.roleArn}`;
    let status: number;
    let text: string;
    try {
      const response = await request(options.stsEndpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/xml' },
        body,
      });
      status = response.statusCode;
      text = await response.body.text();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new CredentialsError(`${what}: ${reason}`, { cause: error });
    }
    if (status !== 200) {
      const code = textOf(text, 'Code') ?? 'no error code';
      const message = textOf(text, 'Message') ?? text.slice(0, 200);
      throw new CredentialsError(`${what}: HTTP ${status} ${code}: ${message}`);
    }
    const accessKeyId = textOf(text, 'AccessKeyId');
    const secretAccessKey = textOf(text, 'SecretAccessKey');
    const sessionToken = textOf(text, 'SessionToken');
    const expiration = textOf(text, 'Expiration');
    if (!accessKeyId || !secretAccessKey || !sessionToken || !expiration) {
      throw new CredentialsError(`${what}: the answer lacks Credentials (AccessKeyId, SecretAccessKey, …)`);
    }
    return { accessKeyId, secretAccessKey, sessionToken, expiration: new Date(expiration) };
  };

  return {
    credentials: async () => {
      const expires = cached?.expiration?.getTime() ?? 0;
      if (cached !== undefined && expires - refreshBeforeMs > now()) return cached;
      // Concurrent uploads share one exchange instead of each asking STS.
      pending ??= assumeRole().finally(() => (pending = undefined));
      cached = await pending;
      return cached;
    },
  };
}
