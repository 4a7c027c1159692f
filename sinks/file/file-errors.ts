import { PermanentError, RetryableError } from '../../src/errors.js';

// Mistakes an operator has to fix (a read-only volume, a file where a directory should be): retrying the same
// batch will not help, so the engine should not block on it.
const PERMANENT_CODES: ReadonlySet<string> = new Set([
  'EACCES',
  'EPERM',
  'EROFS',
  'ENOTDIR',
  'EISDIR',
  'ENAMETOOLONG',
  'EINVAL',
]);

/**
 * Wraps a file-system failure in the error class the sink runner acts on: a full disk or an I/O error may pass
 * (RetryableError), a permission or path mistake will not (PermanentError). The message names the file.
 *
 * @example
 * throw fileError('writing', '/data/lake/part-1.parquet', err);
 */
export function fileError(action: string, file: string, cause: unknown): RetryableError | PermanentError {
  const code = (cause as { code?: unknown } | null)?.code;
  const reason = cause instanceof Error ? cause.message : String(cause);
  const message = `file sink: ${action} ${file} failed: ${reason}`;
  return typeof code === 'string' && PERMANENT_CODES.has(code)
    ? new PermanentError(message, { cause })
    : new RetryableError(message, { cause });
}
