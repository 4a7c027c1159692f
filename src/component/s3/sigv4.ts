// AWS Signature Version 4 (header form) for S3 and STS, written with node:crypto so that heapstream needs no AWS
// SDK. The steps follow AWS's "Signature Version 4 signing process": canonical request → string to sign → a key
// derived from the secret, the day, the region and the service → HMAC of the string to sign.
import { createHash, createHmac } from 'node:crypto';

/** The keys a request is signed with. A session token comes with temporary credentials (STS, IRSA). */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string | undefined;
  /** When temporary credentials stop working; undefined for long-lived keys. */
  readonly expiration?: Date | undefined;
}

/** One request to sign. `headers` must not contain authorization or x-amz-date: signing adds them. */
export interface RequestToSign {
  readonly method: string;
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  /** Hex SHA-256 of the body (`sha256Hex(body)`), or `UNSIGNED-PAYLOAD`. */
  readonly payloadHash: string;
  readonly region: string;
  /** `s3` or `sts`. */
  readonly service: string;
  readonly credentials: AwsCredentials;
  readonly now: Date;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: Uint8Array | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** RFC 3986 percent-encoding of everything but the unreserved characters, as SigV4 requires (upper-case hex). */
export function uriEncode(text: string, keepSlash: boolean): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const char = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-._~]/.test(char) || (keepSlash && char === '/')) out += char;
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** `20130524T000000Z`, the form of x-amz-date. */
export function amzDate(now: Date): string {
  return now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/**
 * The canonical query string: every parameter encoded, sorted by name then value. The URL's search must already be
 * in its decoded form in `url.searchParams` (a parameter without a value signs as `name=`).
 */
function canonicalQuery(url: URL): string {
  const pairs = [...url.searchParams].map(([name, value]) => [
    uriEncode(name, false),
    uriEncode(value, false),
  ]);
  pairs.sort(([a = '', av = ''], [b = '', bv = '']) =>
    a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0,
  );
  return pairs.map(([name, value]) => `${name}=${value}`).join('&');
}

/**
 * The headers to send: the given ones plus host, x-amz-date, x-amz-content-sha256, x-amz-security-token (with a
 * session token) and authorization. Every header given is signed, so a proxy cannot change one unnoticed.
 *
 * @example
 * const headers = signRequest({ method: 'GET', url, headers: {}, payloadHash: sha256Hex(''), region: 'us-east-1',
 *   service: 's3', credentials, now: new Date() });
 */
export function signRequest(request: RequestToSign): Record<string, string> {
  const date = amzDate(request.now);
  const day = date.slice(0, 8);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = value;
  headers['host'] = request.url.host;
  headers['x-amz-date'] = date;
  headers['x-amz-content-sha256'] = request.payloadHash;
  if (request.credentials.sessionToken !== undefined) {
    headers['x-amz-security-token'] = request.credentials.sessionToken;
  }

  const names = Object.keys(headers).sort();
  const canonicalHeaders = names
    .map((name) => `${name}:${(headers[name] ?? '').trim().replace(/\s+/g, ' ')}\n`)
    .join('');
  const signedHeaders = names.join(';');
  // S3 paths are encoded once (the key as stored); the URL object holds them already encoded that way.
  const canonicalRequest = [
    request.method,
    request.url.pathname === '' ? '/' : request.url.pathname,
    canonicalQuery(request.url),
    canonicalHeaders,
    signedHeaders,
    request.payloadHash,
  ].join('\n');

  const scope = `${day}/${request.region}/${request.service}/aws4_request`;
  const stringToSign = [ALGORITHM, date, scope, sha256Hex(canonicalRequest)].join('\n');
  const dayKey = hmac(`AWS4${request.credentials.secretAccessKey}`, day);
  const signingKey = hmac(hmac(hmac(dayKey, request.region), request.service), 'aws4_request');
  const signature = hmac(signingKey, stringToSign).toString('hex');

  headers['authorization'] =
    `${ALGORITHM} Credential=${request.credentials.accessKeyId}/${scope}, ` +
    `SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return headers;
}
