// The S3 client against a real S3 server (SeaweedFS on loopback) that checks every signature.
import { randomBytes } from 'node:crypto';
import { lookup as dnsLookup } from 'node:dns';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, type Dispatcher } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { environmentCredentials } from '../src/component/s3/credentials.js';
import { S3Error, S3ObjectStore, S3RetryableError } from '../src/component/s3/s3-store.js';
import { startSeaweedFS, type SeaweedFSService } from './services/seaweedfs.js';

let weed: SeaweedFSService;

function storeFor(options: {
  bucket: string;
  prefix?: string;
  secret?: string;
  multipartThresholdBytes?: number;
  partBytes?: number;
  listPageSize?: number;
  dispatcher?: Dispatcher;
}): S3ObjectStore {
  return new S3ObjectStore({
    bucket: options.bucket,
    ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
    region: weed.region,
    endpoint: weed.s3Endpoint,
    forcePathStyle: true,
    credentials: environmentCredentials({
      AWS_ACCESS_KEY_ID: weed.accessKeyId,
      AWS_SECRET_ACCESS_KEY: options.secret ?? weed.secretAccessKey,
    }),
    ...(options.multipartThresholdBytes === undefined
      ? {}
      : { multipartThresholdBytes: options.multipartThresholdBytes }),
    ...(options.partBytes === undefined ? {} : { partBytes: options.partBytes }),
    ...(options.listPageSize === undefined ? {} : { listPageSize: options.listPageSize }),
    ...(options.dispatcher === undefined ? {} : { dispatcher: options.dispatcher }),
  });
}

/** An HTTP agent that runs `before` with each request's path just before sending it. */
class WatchingAgent extends Agent {
  constructor(private readonly before: (path: string) => void) {
    super();
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    this.before(options.path);
    return super.dispatch(options, handler);
  }
}

function tempFile(bytes: Uint8Array): string {
  const path = join(mkdtempSync(join(tmpdir(), 'heapstream-s3-file-')), 'part-0.parquet');
  writeFileSync(path, bytes);
  return path;
}

beforeAll(async () => {
  weed = await startSeaweedFS();
  await storeFor({ bucket: 'lake' }).createBucket();
});
afterAll(async () => weed?.stop());

describe('S3ObjectStore on SeaweedFS', () => {
  it('puts, gets, lists (over several pages) and deletes objects under a prefix', async () => {
    const store = storeFor({ bucket: 'lake', prefix: 'paged', listPageSize: 3 });
    const keys = Array.from({ length: 8 }, (_, i) => `date=2026-01-0${(i % 2) + 1}/part ${i}+é.jsonl`);
    for (const [i, key] of keys.entries())
      await store.put(key, Buffer.from(`row ${i}\n`), { contentType: 'application/x-ndjson' });

    const listed = await store.list('');
    expect(listed.map((o) => o.key)).toEqual([...keys].sort());
    expect(listed.every((o) => o.size === Buffer.byteLength('row 0\n'))).toBe(true);
    expect((await store.list('date=2026-01-02/')).map((o) => o.key)).toEqual(
      keys.filter((k) => k.startsWith('date=2026-01-02/')).sort(),
    );
    expect(Buffer.from((await store.get(keys[5] ?? '')) ?? []).toString()).toBe('row 5\n');
    expect(await store.get('date=2026-01-01/absent')).toBeUndefined();
    // The prefix is part of the object's real key: another store without it sees the full key.
    expect((await storeFor({ bucket: 'lake' }).list('paged/')).length).toBe(keys.length);

    await store.delete(keys[0] ?? '');
    await store.delete(keys[0] ?? ''); // absent: not an error
    expect((await store.list('')).map((o) => o.key)).not.toContain(keys[0]);
    expect(store.url('a/b')).toBe('s3://lake/paged/a/b');
  });

  it('uploads a body above the threshold in parts, and the object is whole', async () => {
    const store = storeFor({ bucket: 'lake', prefix: 'multipart', multipartThresholdBytes: 1024 });
    const body = randomBytes(11 * 1024 * 1024 + 123); // two parts: 8 MiB and the rest
    await store.put('big.parquet', body);
    const back = await store.get('big.parquet');
    expect(back?.byteLength).toBe(body.byteLength);
    expect(Buffer.compare(Buffer.from(back ?? []), body)).toBe(0);
  });

  it('uploads a file below the threshold with one PUT streamed from disk, byte-equal', async () => {
    const store = storeFor({ bucket: 'lake', prefix: 'file-put' });
    const bytes = randomBytes(3 * 1024 * 1024 + 7);
    const paths: string[] = [];
    const dispatcher = new WatchingAgent((path) => paths.push(path));
    await storeFor({ bucket: 'lake', prefix: 'file-put', dispatcher }).putFile(
      'small.parquet',
      tempFile(bytes),
    );
    await dispatcher.close();
    expect(paths).toEqual(['/lake/file-put/small.parquet']); // one request, no multipart
    expect(Buffer.compare(Buffer.from((await store.get('small.parquet')) ?? []), bytes)).toBe(0);
    await store.putFile('empty.jsonl', tempFile(new Uint8Array(0)));
    expect((await store.get('empty.jsonl'))?.byteLength).toBe(0);
  });

  it('uploads a file above the threshold in parts read one at a time, byte-equal', async () => {
    const partBytes = 5 * 1024 * 1024;
    const path = tempFile(randomBytes(3 * partBytes + 4321)); // four parts, the last small
    // While part 2 is being sent, the file's later bytes change on disk. Reading one part at a time, the upload
    // takes the new bytes; an upload that had read the file (or more than the part it sends) ahead would not.
    const changed = randomBytes(partBytes + 4321);
    const dispatcher = new WatchingAgent((requestPath) => {
      if (requestPath.includes('partNumber=2&')) {
        const file = readFileSync(path);
        changed.copy(file, 2 * partBytes);
        writeFileSync(path, file);
      }
    });
    const store = storeFor({
      bucket: 'lake',
      prefix: 'file-multipart',
      multipartThresholdBytes: partBytes,
      partBytes,
      dispatcher,
    });
    await store.putFile('big.parquet', path);
    await dispatcher.close();
    const expected = readFileSync(path);
    expect(Buffer.compare(expected.subarray(2 * partBytes), changed)).toBe(0); // the change did happen
    const back = await storeFor({ bucket: 'lake', prefix: 'file-multipart' }).get('big.parquet');
    expect(back?.byteLength).toBe(expected.byteLength);
    expect(Buffer.compare(Buffer.from(back ?? []), expected)).toBe(0);
  });

  it('aborts a multipart upload whose part fails, leaving no object and no incomplete upload', async () => {
    // Good keys for CreateMultipartUpload and for the abort, a wrong secret for the first part in between.
    let calls = 0;
    const good = environmentCredentials({
      AWS_ACCESS_KEY_ID: weed.accessKeyId,
      AWS_SECRET_ACCESS_KEY: weed.secretAccessKey,
    });
    const store = new S3ObjectStore({
      bucket: 'lake',
      prefix: 'aborted',
      region: weed.region,
      endpoint: weed.s3Endpoint,
      forcePathStyle: true,
      multipartThresholdBytes: 1024,
      credentials: {
        credentials: async () => {
          calls++;
          const keys = await good.credentials();
          return calls === 2 ? { ...keys, secretAccessKey: 'wrong' } : keys;
        },
      },
    });
    const error = await store.put('big.parquet', randomBytes(6 * 1024 * 1024)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(S3Error);
    expect((error as Error).message).toMatch(/UploadPart 1 s3:\/\/lake\/aborted\/big\.parquet: HTTP 403/);
    expect(calls).toBe(3); // create, the failed part, the abort
    expect(await store.get('big.parquet')).toBeUndefined();
    expect(await store.incompleteUploads('')).toEqual([]);

    // The same listing does show an upload that was begun and left (as by a process killed mid-upload).
    const lister = storeFor({ bucket: 'lake', prefix: 'aborted' });
    const left = storeFor({ bucket: 'lake', prefix: 'left' });
    let leftCalls = 0;
    const leftAlone = new S3ObjectStore({
      bucket: 'lake',
      prefix: 'left',
      region: weed.region,
      endpoint: weed.s3Endpoint,
      forcePathStyle: true,
      multipartThresholdBytes: 1024,
      credentials: {
        credentials: async () => {
          leftCalls++;
          const keys = await good.credentials();
          // Every call after CreateMultipartUpload fails, the abort too: the upload stays incomplete.
          return leftCalls === 1 ? keys : { ...keys, secretAccessKey: 'wrong' };
        },
      },
    });
    await expect(leftAlone.put('stuck.parquet', randomBytes(6 * 1024 * 1024))).rejects.toThrow(/HTTP 403/);
    expect((await left.incompleteUploads('')).map((u) => u.key)).toEqual(['stuck.parquet']);
    expect(await lister.incompleteUploads('')).toEqual([]);
  });

  it('is refused with 403 and the server error code when the secret is wrong', async () => {
    const store = storeFor({ bucket: 'lake', prefix: 'denied', secret: 'not-the-secret' });
    const error = await store.put('x.jsonl', Buffer.from('x')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(S3Error);
    expect((error as S3Error).status).toBe(403);
    expect((error as S3Error).code).toBe('SignatureDoesNotMatch');
    expect((error as S3Error).message).toContain('s3://lake/denied/x.jsonl');
    // The right secret still works: the 403 came from the signature, not from the bucket.
    await storeFor({ bucket: 'lake', prefix: 'denied' }).put('x.jsonl', Buffer.from('x'));
  });

  it('names the key and the missing bucket in the error', async () => {
    const error = await storeFor({ bucket: 'no-such-bucket' })
      .list('p/')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(S3Error);
    expect((error as S3Error).code).toBe('NoSuchBucket');
    expect((error as Error).message).toMatch(
      /ListObjectsV2 s3:\/\/no-such-bucket\/p\/: HTTP 404 NoSuchBucket/,
    );
  });

  it('addresses the bucket in the host name (virtual-hosted style) when path style is off', async () => {
    // lake.s3.heapstream.test resolves to 127.0.0.1 through this agent only; SeaweedFS was started with that
    // domain, so it reads the bucket from the Host header.
    const agent = new Agent({
      connect: {
        lookup: (_host, options, callback) => dnsLookup('127.0.0.1', options, callback),
      },
    });
    const endpoint = new URL(weed.s3Endpoint);
    endpoint.hostname = weed.virtualHostDomain;
    const store = new S3ObjectStore({
      bucket: 'lake',
      prefix: 'virtual',
      region: weed.region,
      endpoint: endpoint.href,
      credentials: environmentCredentials({
        AWS_ACCESS_KEY_ID: weed.accessKeyId,
        AWS_SECRET_ACCESS_KEY: weed.secretAccessKey,
      }),
      dispatcher: agent,
    });
    await store.put('v.jsonl', Buffer.from('virtual\n'));
    expect((await storeFor({ bucket: 'lake', prefix: 'virtual' }).list('')).map((o) => o.key)).toEqual([
      'v.jsonl',
    ]);
    await agent.close();
  });

  it('throws a retryable error naming the key while the server is down', async () => {
    const store = storeFor({ bucket: 'lake', prefix: 'outage' });
    await weed.stop();
    try {
      const error = await store.put('o.jsonl', Buffer.from('o')).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(S3RetryableError);
      expect((error as Error).message).toContain('s3://lake/outage/o.jsonl');
    } finally {
      await weed.start();
    }
    await store.put('o.jsonl', Buffer.from('o'));
    expect((await store.list('')).map((o) => o.key)).toEqual(['o.jsonl']);
  });
});
