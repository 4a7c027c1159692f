// An ObjectStore on S3 or an S3-compatible server (SeaweedFS, MinIO, Ceph RGW, R2), over undici, signed with
// SigV4. A single PUT or a completed multipart upload is atomic in S3: a reader sees the whole object or none.
import { stat } from 'node:fs/promises';
import { request, type Dispatcher } from 'undici';
import { PermanentError, RetryableError } from '../errors.js';
import type { ObjectInfo, ObjectStore, PutOptions } from '../object-store.js';
import type { CredentialProvider } from './credentials.js';
import { fileSha256, fileStream, FilePartReader, type FileBody } from './file-body.js';
import { sha256Hex, signRequest, uriEncode } from './sigv4.js';
import { elements, escapeXml, textOf } from './xml.js';

/** S3 (and compatibles) refuse parts below 5 MiB, except the last one. */
export const MIN_PART_BYTES = 5 * 1024 * 1024;

export interface S3StoreOptions {
  readonly bucket: string;
  /** Key prefix inside the bucket (no leading slash); keys given to the store are relative to it. */
  readonly prefix?: string;
  readonly region: string;
  /** `https://s3.<region>.amazonaws.com` when absent. */
  readonly endpoint?: string;
  /** `endpoint/bucket/key` instead of `bucket.endpoint/key` (most self-hosted servers want this). */
  readonly forcePathStyle?: boolean;
  readonly credentials: CredentialProvider;
  /** Bodies larger than this are uploaded in parts (default 16 MiB). */
  readonly multipartThresholdBytes?: number;
  /** Size of each part but the last (default 8 MiB, at least 5 MiB). */
  readonly partBytes?: number;
  /** Keys per ListObjectsV2 page (the server's default, 1000, when absent). */
  readonly listPageSize?: number;
  /** Per-request timeout for headers and body (default 60 s). */
  readonly timeoutMs?: number;
  readonly dispatcher?: Dispatcher;
  readonly now?: () => Date;
}

/**
 * An S3 request that failed with an answer: the key, the HTTP status and the server's error code and message.
 * Other 4xx answers (403 bad signature or access denied, 404 no such bucket) fail the same way again: permanent.
 */
export class S3Error extends PermanentError {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | undefined,
    readonly key: string,
  ) {
    super(message);
  }
}

/** Thrown for answers worth retrying (5xx, 429, throttling) so the sink runner retries them as it retries outages. */
export class S3RetryableError extends RetryableError {
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly code: string | undefined,
    readonly key: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

interface Call {
  readonly method: 'GET' | 'PUT' | 'POST' | 'DELETE' | 'HEAD';
  /** Key relative to the bucket (prefix already applied), or '' for the bucket itself. */
  readonly objectKey: string;
  readonly query?: Readonly<Record<string, string>>;
  /** Bytes in memory, or a file streamed from disk (its hash computed beforehand). */
  readonly body?: Uint8Array | FileBody;
  readonly headers?: Readonly<Record<string, string>>;
  /** The key to name in errors (relative to the store). */
  readonly what: string;
  /** The S3 operation, for error messages (the HTTP method when absent). */
  readonly operation?: string;
}

const RETRYABLE_CODES = new Set(['SlowDown', 'InternalError', 'ServiceUnavailable', 'RequestTimeout']);

function joinPrefix(prefix: string, key: string): string {
  if (prefix === '') return key;
  return prefix.endsWith('/') ? `${prefix}${key}` : `${prefix}/${key}`;
}

/**
 * @example
 * const store = new S3ObjectStore({ bucket: 'metrics', prefix: 'heapstream', region: 'us-east-1',
 *   credentials: environmentCredentials() });
 * await store.put('date=2026-01-01/part-0.parquet', bytes);
 */
export class S3ObjectStore implements ObjectStore {
  private readonly prefix: string;
  private readonly endpoint: URL;
  private readonly threshold: number;
  private readonly partBytes: number;

  constructor(private readonly options: S3StoreOptions) {
    this.prefix = (options.prefix ?? '').replace(/^\/+/, '');
    this.endpoint = new URL(options.endpoint ?? `https://s3.${options.region}.amazonaws.com`);
    this.threshold = options.multipartThresholdBytes ?? 16 * 1024 * 1024;
    this.partBytes = Math.max(options.partBytes ?? 8 * 1024 * 1024, MIN_PART_BYTES);
  }

  url(key: string): string {
    return `s3://${this.options.bucket}/${joinPrefix(this.prefix, key)}`;
  }

  async put(key: string, body: Uint8Array, options: PutOptions = {}): Promise<void> {
    const objectKey = joinPrefix(this.prefix, key);
    const headers: Record<string, string> = {
      'content-type': options.contentType ?? 'application/octet-stream',
    };
    if (body.byteLength <= this.threshold) {
      await this.call({ method: 'PUT', objectKey, body, headers, what: key });
      return;
    }
    await this.putMultipart(key, objectKey, headers, body.byteLength, (offset, size) =>
      Promise.resolve(body.subarray(offset, offset + size)),
    );
  }

  /**
   * Uploads a local file without reading it whole: up to the threshold one PUT streamed from the file (read twice:
   * once for the SigV4 payload hash, once to send), above it a multipart upload that reads one part at a time.
   */
  async putFile(key: string, path: string, options: PutOptions = {}): Promise<void> {
    const objectKey = joinPrefix(this.prefix, key);
    const headers: Record<string, string> = {
      'content-type': options.contentType ?? 'application/octet-stream',
    };
    const { size } = await stat(path);
    if (size <= this.threshold) {
      const body: FileBody = { path, length: size, sha256: await fileSha256(path, size) };
      await this.call({ method: 'PUT', objectKey, body, headers, what: key });
      return;
    }
    const reader = await FilePartReader.open(path, size, this.partBytes);
    try {
      await this.putMultipart(key, objectKey, headers, size, (offset, length) => reader.read(offset, length));
    } finally {
      await reader.close();
    }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const answer = await this.call(
      { method: 'GET', objectKey: joinPrefix(this.prefix, key), what: key },
      [404],
    );
    return answer.status === 404 ? undefined : new Uint8Array(answer.body);
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    const found: ObjectInfo[] = [];
    const fullPrefix = joinPrefix(this.prefix, prefix);
    const strip = this.prefix === '' ? 0 : joinPrefix(this.prefix, '').length;
    let token: string | undefined;
    do {
      const query: Record<string, string> = { 'list-type': '2', prefix: fullPrefix };
      if (token !== undefined) query['continuation-token'] = token;
      if (this.options.listPageSize !== undefined) query['max-keys'] = String(this.options.listPageSize);
      const answer = await this.call({
        method: 'GET',
        objectKey: '',
        query,
        what: prefix,
        operation: 'ListObjectsV2',
      });
      const xml = answer.body.toString('utf8');
      for (const entry of elements(xml, 'Contents')) {
        const key = textOf(entry, 'Key');
        if (key === undefined) continue;
        found.push({ key: key.slice(strip), size: Number(textOf(entry, 'Size') ?? 0) });
      }
      token = textOf(xml, 'IsTruncated') === 'true' ? textOf(xml, 'NextContinuationToken') : undefined;
    } while (token !== undefined);
    return found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(key: string): Promise<void> {
    await this.call({ method: 'DELETE', objectKey: joinPrefix(this.prefix, key), what: key }, [404]);
  }

  /**
   * Multipart uploads begun under `prefix` and neither completed nor aborted (ListMultipartUploads, first 1,000):
   * what a process killed in the middle of an upload leaves behind. S3 keeps their parts, and bills them, until
   * they are aborted or a lifecycle rule removes them.
   */
  async incompleteUploads(prefix: string): Promise<{ key: string; uploadId: string; initiated: string }[]> {
    const answer = await this.call({
      method: 'GET',
      objectKey: '',
      query: { uploads: '', prefix: joinPrefix(this.prefix, prefix) },
      what: prefix,
      operation: 'ListMultipartUploads',
    });
    const strip = this.prefix === '' ? 0 : joinPrefix(this.prefix, '').length;
    return elements(answer.body.toString('utf8'), 'Upload').map((upload) => ({
      key: (textOf(upload, 'Key') ?? '').slice(strip),
      uploadId: textOf(upload, 'UploadId') ?? '',
      initiated: textOf(upload, 'Initiated') ?? '',
    }));
  }

  /** Creates the bucket; an existing bucket of ours is fine. For tests and first runs against a fresh server. */
  async createBucket(): Promise<void> {
    const answer = await this.call(
      { method: 'PUT', objectKey: '', what: `bucket ${this.options.bucket}` },
      [409],
    );
    if (answer.status === 409) {
      const code = textOf(answer.body.toString('utf8'), 'Code');
      if (code !== 'BucketAlreadyOwnedByYou' && code !== 'BucketAlreadyExists') {
        throw this.failure('PUT', `bucket ${this.options.bucket}`, answer);
      }
    }
  }

  /**
   * Create, upload each part, complete; on any failure abort, so no half upload keeps costing storage. Parts are
   * read by `readPart` one at a time, each after the previous part's request was answered, so the bytes it returns
   * may live in a buffer the next call reuses.
   */
  private async putMultipart(
    key: string,
    objectKey: string,
    headers: Record<string, string>,
    totalBytes: number,
    readPart: (offset: number, size: number) => Promise<Uint8Array>,
  ): Promise<void> {
    const created = await this.call({
      method: 'POST',
      objectKey,
      query: { uploads: '' },
      headers,
      what: key,
      operation: 'CreateMultipartUpload',
    });
    const uploadId = textOf(created.body.toString('utf8'), 'UploadId');
    if (uploadId === undefined) {
      throw new S3Error(
        `S3 multipart upload of ${this.url(key)}: no UploadId in the answer`,
        created.status,
        undefined,
        key,
      );
    }
    try {
      const etags: string[] = [];
      for (let offset = 0, part = 1; offset < totalBytes; offset += this.partBytes, part++) {
        const chunk = await readPart(offset, Math.min(this.partBytes, totalBytes - offset));
        const answer = await this.call({
          method: 'PUT',
          objectKey,
          query: { partNumber: String(part), uploadId },
          body: chunk,
          what: key,
          operation: `UploadPart ${part}`,
        });
        const etag = answer.headers['etag'];
        if (typeof etag !== 'string') {
          throw new S3Error(
            `S3 upload of part ${part} of ${this.url(key)}: no ETag`,
            answer.status,
            undefined,
            key,
          );
        }
        etags.push(etag);
      }
      const manifest =
        '<CompleteMultipartUpload>' +
        etags
          .map((etag, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${escapeXml(etag)}</ETag></Part>`)
          .join('') +
        '</CompleteMultipartUpload>';
      const completed = await this.call({
        method: 'POST',
        objectKey,
        query: { uploadId },
        body: Buffer.from(manifest, 'utf8'),
        headers: { 'content-type': 'application/xml' },
        what: key,
        operation: 'CompleteMultipartUpload',
      });
      // CompleteMultipartUpload can answer 200 and still fail: the error is then in the body.
      const text = completed.body.toString('utf8');
      if (/<Error>/.test(text))
        throw this.failure('CompleteMultipartUpload', key, { ...completed, status: 500 });
    } catch (error) {
      await this.call({ method: 'DELETE', objectKey, query: { uploadId }, what: key }, [404]).catch(
        () => undefined,
      );
      throw error;
    }
  }

  private requestUrl(objectKey: string, query: Readonly<Record<string, string>>): URL {
    const { bucket } = this.options;
    const url = new URL(this.endpoint.href);
    const base = url.pathname.replace(/\/+$/, '');
    const encodedKey = uriEncode(objectKey, true);
    if (this.options.forcePathStyle === true) {
      url.pathname = `${base}/${uriEncode(bucket, false)}${objectKey === '' ? '' : `/${encodedKey}`}`;
    } else {
      url.hostname = `${bucket}.${url.hostname}`;
      url.pathname = `${base}/${encodedKey}`;
    }
    // Encoded exactly as SigV4 encodes it, so what is sent is what was signed.
    url.search = Object.entries(query)
      .map(([name, value]) => `${uriEncode(name, false)}=${uriEncode(value, false)}`)
      .join('&');
    return url;
  }

  /** One signed request; answers outside 2xx (and `accepted`) throw with the key and the server's error. */
  private async call(call: Call, accepted: readonly number[] = []): Promise<Answer> {
    const url = this.requestUrl(call.objectKey, call.query ?? {});
    const body = call.body ?? new Uint8Array(0);
    const inMemory = body instanceof Uint8Array;
    const credentials = await this.options.credentials.credentials();
    const headers = signRequest({
      method: call.method,
      url,
      headers: {
        ...call.headers,
        'content-length': String(inMemory ? body.byteLength : body.length),
      },
      payloadHash: inMemory ? sha256Hex(body) : body.sha256,
      region: this.options.region,
      service: 's3',
      credentials,
      now: this.options.now?.() ?? new Date(),
    });
    delete headers['host'];
    const timeout = this.options.timeoutMs ?? 60_000;
    let answer: Answer;
    try {
      const response = await request(url, {
        method: call.method,
        headers,
        body:
          call.method === 'GET' || call.method === 'HEAD' || call.method === 'DELETE'
            ? null
            : inMemory
              ? body
              : fileStream(body),
        headersTimeout: timeout,
        bodyTimeout: timeout,
        ...(this.options.dispatcher === undefined ? {} : { dispatcher: this.options.dispatcher }),
      });
      const bytes = Buffer.from(await response.body.arrayBuffer());
      answer = { status: response.statusCode, headers: response.headers, body: bytes };
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new S3RetryableError(
        `S3 ${call.operation ?? call.method} ${this.url(call.what)} (${url.origin}): ${reason}`,
        undefined,
        undefined,
        call.what,
        { cause: error },
      );
    }
    if ((answer.status >= 200 && answer.status < 300) || accepted.includes(answer.status)) return answer;
    throw this.failure(call.operation ?? call.method, call.what, answer);
  }

  private failure(method: string, key: string, answer: Answer): S3Error | S3RetryableError {
    const text = answer.body.toString('utf8');
    const code = textOf(text, 'Code');
    const serverMessage = textOf(text, 'Message') ?? (text.trim().slice(0, 200) || 'no message');
    const requestId = textOf(text, 'RequestId');
    const message =
      `S3 ${method} ${this.url(key)}: HTTP ${answer.status} ${code ?? ''}: ${serverMessage}` +
      (requestId === undefined ? '' : ` (request id ${requestId})`);
    const retryable = answer.status >= 500 || answer.status === 429 || RETRYABLE_CODES.has(code ?? '');
    return retryable
      ? new S3RetryableError(message, answer.status, code, key)
      : new S3Error(message, answer.status, code, key);
  }
}
