import { PermanentError, RetryableError } from '../component/errors.js';

/**
 * What a sink's failure says about the next attempt. Only the first four may pass on their own and are retried;
 * the others would fail the same way again, so the runner isolates the sets that cause them instead.
 *
 * - `retryable`: a RetryableError, which sinks throw for 5xx, 429, a broker down, their own timeouts…
 * - `network`: a socket error code anywhere in the cause chain (refused, reset, hang-up, DNS, EPIPE…)
 * - `timeout`: a timeout the sink did not map (an AbortSignal timeout, undici's timeouts)
 * - `disk_full`: ENOSPC or EDQUOT, which pass once space is freed (the file sink then loses nothing)
 * - `permanent`: a PermanentError (400, bad credentials, a read-only volume as the file sink maps it…)
 * - `file_system`: any other file-system code (EACCES, EROFS, ENOENT, ENOTDIR…): someone must act
 * - `unexpected`: anything else (TypeError, RangeError, a plain Error): a bug or data the sink cannot encode
 */
export type SinkErrorClass =
  'retryable' | 'network' | 'timeout' | 'disk_full' | 'permanent' | 'file_system' | 'unexpected';

const RETRYABLE_CLASSES: ReadonlySet<SinkErrorClass> = new Set([
  'retryable',
  'network',
  'timeout',
  'disk_full',
]);

/** Socket and resolver failures (Node's and undici's codes): the peer may be back on the next attempt. */
const NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENETRESET',
  'EADDRNOTAVAIL',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

const TIMEOUT_CODES: ReadonlySet<string> = new Set([
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

const DISK_FULL_CODES: ReadonlySet<string> = new Set(['ENOSPC', 'EDQUOT']);

/** kafkajs' connection-level errors, in case one reaches the runner unmapped. */
const KAFKA_NETWORK_ERRORS: ReadonlySet<string> = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSBrokerNotFound',
]);

interface ErrorFields {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly retriable?: unknown;
  readonly cause?: unknown;
  readonly originalError?: unknown;
}

/**
 * Classifies a sink's failure, looking through wrappers (`cause`, kafkajs' `originalError`) to the first error
 * that says what happened: `fetch failed` is a TypeError whose cause is ECONNREFUSED, and that is a network error.
 * An error the sink already classified (RetryableError, PermanentError) keeps its class.
 *
 * @example
 * classifySinkError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })); // 'network'
 * classifySinkError(new TypeError('text.slice is not a function')); // 'unexpected'
 */
export function classifySinkError(err: unknown): SinkErrorClass {
  let current: unknown = err;
  const seen = new Set<unknown>();
  // The chain is bounded: a hostile or cyclic `cause` must not hang the runner.
  while (typeof current === 'object' && current !== null && seen.size < 8 && !seen.has(current)) {
    seen.add(current);
    const found = classOf(current);
    if (found !== undefined) return found;
    const fields = current as ErrorFields;
    current = fields.originalError ?? fields.cause;
  }
  return 'unexpected';
}

/**
 * True when the failure may pass on a later attempt and the runner retries it with backoff.
 *
 * @example
 * if (!isRetryableClass(classifySinkError(err))) isolate(batch);
 */
export function isRetryableClass(errorClass: SinkErrorClass): boolean {
  return RETRYABLE_CLASSES.has(errorClass);
}

function classOf(err: object): SinkErrorClass | undefined {
  if (err instanceof RetryableError) return 'retryable';
  if (err instanceof PermanentError) return 'permanent';
  const { name, code, retriable } = err as ErrorFields;
  if (typeof code === 'string') {
    if (NETWORK_CODES.has(code)) return 'network';
    if (TIMEOUT_CODES.has(code)) return 'timeout';
    if (DISK_FULL_CODES.has(code)) return 'disk_full';
    // Node's file-system codes are E + capitals (EACCES, EROFS, ENOENT); ERR_* codes are about the program.
    if (/^E[A-Z]+$/.test(code)) return 'file_system';
  }
  if (name === 'TimeoutError' || name === 'KafkaJSRequestTimeoutError') return 'timeout';
  if (typeof name === 'string' && KAFKA_NETWORK_ERRORS.has(name)) return 'network';
  // kafkajs marks the protocol errors a retry can fix (a leader moving, not enough replicas yet).
  if (typeof name === 'string' && name.startsWith('KafkaJS') && retriable === true) return 'retryable';
  return undefined;
}
