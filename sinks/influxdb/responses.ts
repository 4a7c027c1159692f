import { PermanentError, RetryableError } from '../../src/component/errors.js';

/** An HTTP answer other than 2xx, as either write path saw it. */
export interface FailedResponse {
  readonly status: number;
  /** The body as text (InfluxDB answers JSON `{"error": …}` or `{"message": …}`; VictoriaMetrics plain text). */
  readonly body: string;
  readonly retryAfter: string | undefined;
}

/** A 400 that rejected some lines of a body (the others were written): reported once the batch is done. */
export interface Rejection {
  readonly message: string;
  /** Lines InfluxDB says it dropped (`dropped=N`), or the whole body's lines when it does not say. */
  readonly dropped: number;
  /** Up to three of the rejected lines, for the log. */
  readonly sample: readonly string[];
}

const SAMPLE_LINES = 3;
const MESSAGE_CHARS = 500;

/** The server's error message from its body: the `error` or `message` of a JSON body, else the text. */
export function serverMessage(body: string): string {
  const text = body.trim();
  if (text.startsWith('{')) {
    try {
      const parsed = JSON.parse(text) as { error?: unknown; message?: unknown };
      const message = parsed.error ?? parsed.message;
      if (typeof message === 'string') return message;
    } catch {
      // Not JSON after all: the text itself is the message.
    }
  }
  return text;
}

/** A server message cut to a length fit for a log line. */
export function shortMessage(message: string): string {
  return message.length <= MESSAGE_CHARS ? message : message.slice(0, MESSAGE_CHARS) + '…';
}

/**
 * Retry-After in ms: delta-seconds or an HTTP date (RFC 9110 §10.2.3), or undefined when absent or unreadable.
 *
 * @example
 * retryAfterMs('2', Date.now()); // 2000
 */
export function retryAfterMs(header: string | undefined, now: number): number | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  const text = header.trim();
  const seconds = Number(text);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** True for a 400 that InfluxDB uses when only some lines were refused, or the body could not be parsed. */
export function isLineRejection(status: number, message: string): boolean {
  return (
    status === 400 &&
    (message.includes('partial write') ||
      message.includes('unable to parse') ||
      message.includes('field type conflict') ||
      message.includes('points beyond retention policy'))
  );
}

/**
 * What a rejected body's lines were: the lines InfluxDB quotes (`unable to parse '…'`), else the lines of the
 * measurement it names (`on measurement "…"`), else the body's first lines.
 */
export function describeRejection(message: string, body: string, lines: number): Rejection {
  const droppedAt = message.lastIndexOf('dropped=');
  const dropped = droppedAt >= 0 ? Number.parseInt(message.slice(droppedAt + 8), 10) : Number.NaN;
  const sample: string[] = [];
  // InfluxDB 1.x says `dropped=0` when it only failed to parse lines, so count the lines it quotes too.
  let unparsed = 0;
  let from = 0;
  for (;;) {
    const start = message.indexOf("unable to parse '", from);
    if (start < 0) break;
    const end = message.indexOf("': ", start + 17);
    if (end < 0) break;
    unparsed++;
    if (sample.length < SAMPLE_LINES) sample.push(message.slice(start + 17, end));
    from = end;
  }
  if (sample.length === 0) {
    const at = message.indexOf('on measurement "');
    const measurement = at >= 0 ? message.slice(at + 16, message.indexOf('"', at + 16)) : undefined;
    let start = 0;
    while (start < body.length && sample.length < SAMPLE_LINES) {
      let end = body.indexOf('\n', start);
      if (end < 0) end = body.length;
      const line = body.slice(start, end);
      if (measurement === undefined || startsWithMeasurement(line, measurement)) sample.push(line);
      start = end + 1;
    }
  }
  return { message, dropped: Number.isNaN(dropped) ? lines : Math.max(dropped, unparsed), sample };
}

function startsWithMeasurement(line: string, measurement: string): boolean {
  if (!line.startsWith(measurement)) return false;
  const next = line.charCodeAt(measurement.length);
  return next === 44 || next === 32;
}

/**
 * The error for a response that failed as a whole: retryable for 408, 429 and 5xx (with the server's
 * Retry-After), permanent otherwise, with what to do about it.
 */
export function responseError(
  sink: string,
  target: string,
  response: FailedResponse,
  now: number,
): RetryableError | PermanentError {
  const { status } = response;
  const message = shortMessage(serverMessage(response.body));
  const said = message === '' ? '' : `: ${message}`;
  if (status === 408 || status === 429 || status >= 500) {
    const wait = retryAfterMs(response.retryAfter, now);
    return new RetryableError(
      `sink ${sink}: ${target} answered ${status}${said}${wait === undefined ? '' : ` (retry after ${wait} ms)`}`,
      wait === undefined ? {} : { retryAfterMs: wait },
    );
  }
  if (status === 401 || status === 403) {
    return new PermanentError(
      `sink ${sink}: ${target} refused the credentials (${status}${said}): check username/password or token`,
    );
  }
  if (status === 404) {
    return new PermanentError(
      `sink ${sink}: ${target} not found (404${said}): create it, or set create_database: true (api: v1)`,
    );
  }
  if (status === 413) {
    return new PermanentError(
      `sink ${sink}: ${target} refused the request as too large (413${said}): lower batch.max_bytes`,
    );
  }
  return new PermanentError(`sink ${sink}: ${target} answered ${status}${said}`);
}
