import { describe, expect, it } from 'vitest';
import { PermanentError, RetryableError } from '../../src/errors.js';
import { fileError } from './file-errors.js';

const fsError = (code: string) => Object.assign(new Error(`failed with ${code}`), { code });

describe('fileError', () => {
  it('lets a full disk retry and stops on a permission or path mistake, naming the file', () => {
    const full = fileError(
      'writing',
      'lake/x.parquet',
      Object.assign(new Error('no space left'), { code: 'ENOSPC' }),
    );
    expect(full).toBeInstanceOf(RetryableError);
    expect(full.message).toBe('file sink: writing lake/x.parquet failed: no space left');
    const denied = fileError('creating', 'lake/y', Object.assign(new Error('read-only'), { code: 'EROFS' }));
    expect(denied).toBeInstanceOf(PermanentError);
    expect(denied.cause).toBeInstanceOf(Error);
  });

  it.each(['ENOSPC', 'EDQUOT', 'EMFILE'])('%s may pass: retryable', (code) => {
    expect(fileError('writing', 'lake/x', fsError(code))).toBeInstanceOf(RetryableError);
  });

  // ENOENT is what a recursive mkdir reports on a read-only volume: retried, it stalled the runner forever.
  it.each(['ENOENT', 'EROFS', 'EACCES', 'ENOTDIR', 'EIO'])('%s needs someone to act: permanent', (code) => {
    expect(fileError('creating directory', 'lake', fsError(code))).toBeInstanceOf(PermanentError);
  });

  it('an error without a code (a writer that cannot encode a value) is permanent', () => {
    expect(fileError('completing', 'lake/x', new RangeError('INT64 value out of range'))).toBeInstanceOf(
      PermanentError,
    );
  });
});
