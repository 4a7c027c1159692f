import { describe, expect, it } from 'vitest';
import { PermanentError, RetryableError } from '../../src/errors.js';
import { fileError } from './file-errors.js';

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
});
