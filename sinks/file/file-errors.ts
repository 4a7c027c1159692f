import { PermanentError, RetryableError } from '../../src/errors.js';

// Conditions that pass without anyone touching the volume: space freed, descriptors released, a lock let go. A full
// disk in particular recovers with nothing lost, because the batch is retried until there is room again.
const TRANSIENT_CODES: ReadonlySet<string> = new Set([
  'ENOSPC',
  'EDQUOT',
  'EMFILE',
  'ENFILE',
  'EAGAIN',
  'EBUSY',
  'EINTR',
]);

/**
 * Wraps a file-system failure in the error class the sink runner acts on: a full disk or a passing shortage may
 * pass (RetryableError); anything else will not without someone acting (PermanentError) — a read-only volume
 * (EROFS, or ENOENT from a recursive mkdir on one), a permission or path mistake, a failing disk (EIO), or an
 * error without a code (data the writer cannot encode). The runner then sets the batch's offending sets aside
 * instead of retrying them forever. The message names the file.
 *
 * @example
 * throw fileError('writing', '/data/lake/part-1.parquet', err);
 */
export function fileError(action: string, file: string, cause: unknown): RetryableError | PermanentError {
  const code = (cause as { code?: unknown } | null)?.code;
  const reason = cause instanceof Error ? cause.message : String(cause);
  const message = `file sink: ${action} ${file} failed: ${reason}`;
  return typeof code === 'string' && TRANSIENT_CODES.has(code)
    ? new RetryableError(message, { cause })
    : new PermanentError(message, { cause });
}
