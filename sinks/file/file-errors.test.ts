import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PermanentError, RetryableError } from '../../src/component/errors.js';
import { summaryBatch } from '../../src/testing/fixtures.js';
import { deepFreeze } from '../../src/testing/deep-freeze.js';
import { testContext } from '../../src/testing/context.js';
import { directoryError, fileError } from './file-errors.js';
import type { FileSink } from './file-sink.js';
import fileSinkDefinition from './index.js';

const osError = (code: string, message = `failed with ${code}`) =>
  Object.assign(new Error(message), { code });

describe('fileError', () => {
  it('lets a full disk retry and stops on a permission or path mistake, naming the file', () => {
    const full = fileError('writing', 'lake/x.parquet', osError('ENOSPC', 'no space left'));
    expect(full).toBeInstanceOf(RetryableError);
    expect(full.message).toBe('file sink: writing lake/x.parquet failed: no space left');
    const denied = fileError('creating', 'lake/y', osError('EROFS', 'read-only'));
    expect(denied).toBeInstanceOf(PermanentError);
    expect(denied.cause).toBeInstanceOf(Error);
  });

  it.each(['ENOSPC', 'EDQUOT', 'EMFILE'])('%s may pass: retryable', (code) => {
    expect(fileError('writing', 'lake/x', osError(code))).toBeInstanceOf(RetryableError);
  });

  // ENOENT is what a recursive mkdir reports on a read-only volume: retried, it stalled the runner forever.
  it.each(['ENOENT', 'EROFS', 'EACCES', 'ENOTDIR', 'EIO'])('%s needs someone to act: permanent', (code) => {
    expect(fileError('creating directory', 'lake', osError(code))).toBeInstanceOf(PermanentError);
  });

  it('an error without a code (a writer that cannot encode a value) is permanent', () => {
    expect(fileError('completing', 'lake/x', new RangeError('INT64 value out of range'))).toBeInstanceOf(
      PermanentError,
    );
  });
});

describe('directoryError', () => {
  it('stops on a directory that cannot be made, naming it and saying what to do; a full disk retries', () => {
    const cases: [string, RegExp][] = [
      // What recursive mkdir reports on a read-only volume or through a dangling symlink.
      ['ENOENT', /a parent of it is missing or a dangling symlink/],
      ['EROFS', /the volume is read-only/],
      ['EACCES', /heapstream may not write there/],
      ['EPERM', /heapstream may not write there/],
      ['ENOTDIR', /a file stands where a directory should be/],
      ['EEXIST', /a file stands where a directory should be/],
    ];
    for (const [code, hint] of cases) {
      const err = directoryError('/data/lake/dt=2026-11-28', osError(code, `${code}: mkdir`));
      expect(err, code).toBeInstanceOf(PermanentError);
      expect(err.message, code).toMatch(/^file sink: cannot create directory \/data\/lake\/dt=2026-11-28 \(/);
      expect(err.message, code).toMatch(hint);
      expect(err.message, code).toMatch(/mount a writable volume there or set the sink's `path` to one/);
    }
    expect(directoryError('/data/lake', osError('ENOSPC', 'no space left'))).toBeInstanceOf(RetryableError);
    expect(directoryError('/data/lake', osError('EDQUOT', 'quota exceeded'))).toBeInstanceOf(RetryableError);
    // Codes without a hint are classed as for any file operation.
    const failing = directoryError('/data/lake', osError('EIO', 'i/o error'));
    expect(failing).toBeInstanceOf(PermanentError);
    expect(failing.message).toBe('file sink: creating directory /data/lake failed: i/o error');
  });
});

describe('file sink on a directory it cannot create', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'heapstream-file-dir-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const sinkAt = (path: string): FileSink =>
    fileSinkDefinition.create(
      fileSinkDefinition.config.parse({ path }),
      testContext({ baseDir: dir, id: 'lake' }),
    ) as FileSink;
  const batch = () =>
    deepFreeze(
      summaryBatch(new URL('../../../shared/fixtures/kubelet/nri-1.34/stats-summary.json', import.meta.url), {
        node: 'n1',
        timestamp: Date.UTC(2026, 10, 28, 9),
        cycle: 1,
      }),
    );

  // As root a read-only directory cannot be made with chmod; a dangling symlink gives the ENOENT that recursive
  // mkdir reports on a read-only volume, and a regular file as parent gives ENOTDIR.
  it('fails permanently at connect, naming the directory, instead of retrying forever', async () => {
    await symlink(join(dir, 'unmounted-volume'), join(dir, 'dangling'));
    await writeFile(join(dir, 'a-file'), 'x');
    for (const path of ['dangling', 'dangling/lake', 'a-file/lake']) {
      const sink = sinkAt(path);
      const err = await sink.connect().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, path).toBeInstanceOf(PermanentError);
      expect((err as Error).message, path).toContain(`cannot create directory ${join(dir, path)}`);
      await sink.close();
    }
  });

  it('fails a write permanently when a partition directory cannot be made', async () => {
    // The lake exists, but the day's partition is a symlink to a volume that is not there.
    const sink = sinkAt('lake');
    await sink.connect();
    await symlink(join(dir, 'unmounted-volume'), join(dir, 'lake', 'dt=2026-11-28'));
    const err = await sink.write(batch()).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PermanentError);
    expect((err as Error).message).toMatch(
      /cannot create directory .*\/lake\/dt=2026-11-28\/hour=09\/type=\w+ \(/,
    );
    await sink.close();
  });
});
