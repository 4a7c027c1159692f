// The S3 client against a real S3 server (SeaweedFS on loopback) that checks every signature.
import { randomBytes } from 'node:crypto';
import { lookup as dnsLookup } from 'node:dns';
import { Agent } from 'undici';
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
  listPageSize?: number;
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
    ...(options.listPageSize === undefined ? {} : { listPageSize: options.listPageSize }),
  });
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
