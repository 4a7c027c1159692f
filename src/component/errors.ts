/**
 * heapstream's error classes. Each has a `name` and a `cause`, so a user sees what failed and where, and the
 * sink runner can tell what to retry.
 *
 * @example
 * throw new RetryableError('kafka broker unreachable', { cause: err });
 */
export class HeapstreamError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A mistake in the configuration. `problems` lists every one, already formatted as `file:line:col path: message`. */
export class ConfigError extends HeapstreamError {
  readonly problems: readonly string[];
  constructor(problems: readonly string[], options?: { cause?: unknown }) {
    super(problems.join('\n'), options);
    this.problems = problems;
  }
}

/**
 * A failure that may succeed on a later attempt (connection refused, timeout, 503). `retryAfterMs` is the
 * wait the server asked for (HTTP Retry-After), when it asked.
 */
export class RetryableError extends HeapstreamError {
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options?: { cause?: unknown; retryAfterMs?: number }) {
    super(message, options);
    this.retryAfterMs = options?.retryAfterMs;
  }
}

/**
 * A failure that will fail again the same way (400, schema mismatch, message too large). `partial` says the sink
 * delivered (or kept) the rest of the batch and refused only some of it, which it counted itself: the runner then
 * neither retries nor splits the batch, since sending any of it again would duplicate data.
 *
 * @example
 * throw new PermanentError('3 sets do not fit in max_message_bytes; the rest was delivered', { partial: true });
 */
export class PermanentError extends HeapstreamError {
  readonly partial: boolean;
  constructor(message: string, options?: { cause?: unknown; partial?: boolean }) {
    super(message, options);
    this.partial = options?.partial ?? false;
  }
}

/** One node's scrape failed; the reason is a counter label. */
export class ScrapeError extends HeapstreamError {
  constructor(
    readonly node: string,
    readonly reason: import('../model/types.js').ScrapeFailureReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`node ${node}: ${message}`, options);
  }
}

/** A kubelet payload that does not have the shape of its API. */
export class DecodeError extends HeapstreamError {}
