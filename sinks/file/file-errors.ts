import { PermanentError, RetryableError } from '../../src/component/errors.js';

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

/** Why a directory cannot be made, by error code: mistakes only an operator can fix, so retrying will not help. */
const DIRECTORY_HINTS: Readonly<Record<string, string>> = {
  // Recursive mkdir reports ENOENT on a read-only volume, and through a symlink to a volume that is not mounted.
  ENOENT: 'a parent of it is missing or a dangling symlink, or the volume is read-only',
  EROFS: 'the volume is read-only',
  EACCES: 'heapstream may not write there',
  EPERM: 'heapstream may not write there',
  ENOTDIR: 'a file stands where a directory should be',
  EEXIST: 'a file stands where a directory should be',
  ENAMETOOLONG: 'the path is too long',
};

/**
 * Wraps a failure to create one of the sink's directories. A read-only volume, a missing mount or a file in the
 * way is a PermanentError that names the directory, the likely cause and what to do, so the engine fails the batch
 * at once instead of retrying it forever while the queue fills; other codes are classed as `fileError` does (a
 * full disk stays a RetryableError).
 *
 * @example
 * throw directoryError('/data/lake/dt=2026-11-28', err); // file sink: cannot create directory /data/lake/… (…)
 */
export function directoryError(dir: string, cause: unknown): RetryableError | PermanentError {
  const code = (cause as { code?: unknown } | null)?.code;
  const hint = typeof code === 'string' ? DIRECTORY_HINTS[code] : undefined;
  if (hint === undefined) return fileError('creating directory', dir, cause);
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new PermanentError(
    `file sink: cannot create directory ${dir} (${reason}): ${hint}; ` +
      "mount a writable volume there or set the sink's `path` to one",
    { cause },
  );
}
