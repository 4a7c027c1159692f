import { existsSync, mkdtempSync } from 'node:fs';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createBuiltinRegistry } from '../../src/builtins.js';
import { DirectoryObjectStore } from '../../src/component/directory-store.js';
import { silentLogger } from '../../src/component/logger.js';
import { parsePipelineConfig } from '../../src/config/load.js';
import { testContext } from '../../src/testing/context.js';
import { fileSinkConfig } from './config.js';
import fileSinkDefinition from './index.js';
import { ObjectUploader, openedAtFromName, parseObjectPath } from './object-target.js';

function pipelineWith(sinkLines: string[]): string {
  return (
    ['source:', '  type: kubelet_summary', 'sinks:', '  lake:', '    type: file', ...sinkLines].join('\n') +
    '\n'
  );
}

function problemsOf(text: string): string {
  try {
    parsePipelineConfig(text, 'pipeline.yaml', createBuiltinRegistry(), {});
  } catch (err) {
    return (err as Error).message;
  }
  return '';
}

describe('file sink s3:// configuration', () => {
  it('takes an s3:// path with its s3 options, defaults filled', () => {
    const config = fileSinkConfig.parse({
      path: 's3://metrics/k8s/lake',
      s3: { endpoint: 'http://127.0.0.1:8333', force_path_style: true },
    });
    expect(parseObjectPath(config.path)).toEqual({ bucket: 'metrics', prefix: 'k8s/lake' });
    expect(config.s3).toMatchObject({
      region: 'us-east-1',
      credentials: { source: 'env', profile: 'default' },
      multipart_threshold: 16 * 1024 * 1024,
      part_size: 8 * 1024 * 1024,
      max_staged_bytes: 4 * 1024 * 1024 * 1024,
    });
  });

  it('refuses inline secrets, naming the key, the file and the line', () => {
    const message = problemsOf(
      pipelineWith([
        '    path: s3://metrics/lake',
        '    s3:',
        '      credentials:',
        '        source: env',
        '        secret_access_key: hunter2',
      ]),
    );
    expect(message).toMatch(
      /pipeline\.yaml:\d+:\d+ .*secret_access_key.*inline credentials are not accepted/,
    );
    expect(message).not.toContain('hunter2');
    expect(message).not.toContain('unknown key');
    expect(
      problemsOf(pipelineWith(['    path: s3://metrics/lake', '    s3: { access_key_id: AKID }'])),
    ).toMatch(/access_key_id.*inline credentials are not accepted/);
  });

  it('needs a bucket, a file for source file, and an s3:// path for s3 options', () => {
    expect(problemsOf(pipelineWith(['    path: s3:///lake']))).toMatch(/path: s3:\/\/ needs a bucket/);
    expect(
      problemsOf(pipelineWith(['    path: s3://b/p', '    s3: { credentials: { source: file } }'])),
    ).toMatch(/credentials\.file: source file needs/);
    expect(problemsOf(pipelineWith(['    path: lake', '    s3: { region: eu-west-1 }']))).toMatch(
      /s3: s3 options need `path: s3:\/\/bucket\/prefix`/,
    );
    // An Iceberg table's files wait in a local directory; its bucket is the table's.
    expect(
      problemsOf(
        pipelineWith([
          '    path: s3://b/p',
          '    table: { format: iceberg, catalog: { type: rest, uri: "http://127.0.0.1:1" }, namespace: m, name: s }',
        ]),
      ),
    ).toMatch(/path: with a table, `path` is the local directory/);
  });
});

describe('file sink with an s3:// path', () => {
  it('says at connect that the credentials are missing, naming the variables', async () => {
    const saved = { id: process.env['AWS_ACCESS_KEY_ID'], secret: process.env['AWS_SECRET_ACCESS_KEY'] };
    delete process.env['AWS_ACCESS_KEY_ID'];
    delete process.env['AWS_SECRET_ACCESS_KEY'];
    const lines: { level: number; msg: string; err?: { message?: string } }[] = [];
    const logger = pino(
      { level: 'debug' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(JSON.parse(chunk.toString('utf8')) as (typeof lines)[number]);
          done();
        },
      }),
    );
    try {
      const baseDir = mkdtempSync(join(tmpdir(), 'heapstream-s3-sink-'));
      const config = fileSinkDefinition.config.parse({
        path: 's3://metrics/lake',
        s3: { endpoint: 'http://127.0.0.1:9' },
      });
      const dataDir = join(baseDir, 'data');
      const sink = fileSinkDefinition.create(config, testContext({ baseDir, dataDir, logger, id: 'lake' }));
      await sink.connect?.();
      await sink.close?.();
      // The staging directory defaults to <data_dir>/staging/<sink id>.
      expect(existsSync(join(dataDir, 'staging', 'lake'))).toBe(true);
    } finally {
      if (saved.id !== undefined) process.env['AWS_ACCESS_KEY_ID'] = saved.id;
      if (saved.secret !== undefined) process.env['AWS_SECRET_ACCESS_KEY'] = saved.secret;
    }
    const error = lines.find((l) => l.level === 50);
    expect(error?.msg).toContain('no S3 credentials');
    expect(error?.err?.message).toMatch(/AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
  });
});

describe('ObjectUploader', () => {
  it('reads the opening time from a file name', () => {
    expect(openedAtFromName('dt=2026-01-01/part-20260101T120000123Z-abcd1234-00001.parquet')).toBe(
      Date.UTC(2026, 0, 1, 12, 0, 0, 123),
    );
    expect(openedAtFromName('dt=2026-01-01/other.parquet')).toBeUndefined();
  });

  it('expires objects by listing, by the time in their name, and keeps what is not its own', async () => {
    const store = new DirectoryObjectStore(mkdtempSync(join(tmpdir(), 'heapstream-uploader-')));
    const old = 'dt=2026-01-01/part-20260101T000000000Z-aaaaaaaa-00000.jsonl';
    const recent = 'dt=2026-01-08/part-20260108T000000000Z-aaaaaaaa-00001.jsonl';
    for (const key of [old, recent, 'dt=2026-01-01/notes.txt']) await store.put(key, Buffer.from('x'));
    const uploader = new ObjectUploader(store, '/nonexistent', silentLogger());
    const deleted = await uploader.expire(Date.UTC(2026, 0, 8, 12), 7 * 24 * 3_600_000);
    expect(deleted).toEqual([store.url(old)]);
    expect((await store.list('')).map((o) => o.key)).toEqual(['dt=2026-01-01/notes.txt', recent]);
  });
});
