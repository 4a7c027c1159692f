import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { PermanentError, RetryableError } from '../component/errors.js';
import { classifySinkError, isRetryableClass, type SinkErrorClass } from './error-class.js';

const coded = (code: string, message = `failed: ${code}`) => Object.assign(new Error(message), { code });
// kafkajs' typings omit the constructor arguments its classes take at run time.
type Ctor = new (...args: unknown[]) => Error;
const kafkaError = (name: string, ...args: unknown[]) =>
  new ((kafkajs as unknown as Record<string, Ctor>)[name] as Ctor)(...args);

describe('classifySinkError', () => {
  it.each<[string, unknown, SinkErrorClass]>([
    ['a RetryableError (5xx, 429 as the sinks map them)', new RetryableError('503'), 'retryable'],
    ['connection refused', coded('ECONNREFUSED'), 'network'],
    ['a socket hang-up', coded('ECONNRESET', 'socket hang up'), 'network'],
    ['a DNS failure', coded('ENOTFOUND', 'getaddrinfo ENOTFOUND influx'), 'network'],
    ['EPIPE from a socket', coded('EPIPE', 'write EPIPE'), 'network'],
    [
      'undici fetch failed (a TypeError caused by a refused connection)',
      new TypeError('fetch failed', { cause: coded('ECONNREFUSED') }),
      'network',
    ],
    ['ETIMEDOUT', coded('ETIMEDOUT'), 'timeout'],
    ['an AbortSignal timeout', new DOMException('timed out', 'TimeoutError'), 'timeout'],
    ['undici headers timeout', coded('UND_ERR_HEADERS_TIMEOUT'), 'timeout'],
    ['a full disk', coded('ENOSPC'), 'disk_full'],
    ['a quota', coded('EDQUOT'), 'disk_full'],
    ['a kafkajs connection error', kafkaError('KafkaJSConnectionError', 'Connection error'), 'network'],
    [
      'a retriable kafkajs protocol error',
      kafkaError('KafkaJSProtocolError', {
        message: 'leader moved',
        type: 'NOT_LEADER_OR_FOLLOWER',
        code: 6,
        retriable: true,
      }),
      'retryable',
    ],
  ])('%s is retried', (_what, err, expected) => {
    expect(classifySinkError(err)).toBe(expected);
    expect(isRetryableClass(classifySinkError(err))).toBe(true);
  });

  it.each<[string, unknown, SinkErrorClass]>([
    ['a PermanentError (400, bad credentials)', new PermanentError('400 database not found'), 'permanent'],
    [
      'a PermanentError caused by a network error keeps the sink’s word',
      new PermanentError('TLS', { cause: coded('ECONNRESET') }),
      'permanent',
    ],
    ['a TypeError from an encoder', new TypeError('text.slice is not a function'), 'unexpected'],
    ['a RangeError', new RangeError('INT64 value out of range'), 'unexpected'],
    ['a plain Error', new Error('boom'), 'unexpected'],
    ['a thrown string', 'boom', 'unexpected'],
    ['EACCES', coded('EACCES'), 'file_system'],
    ['EROFS', coded('EROFS'), 'file_system'],
    ['ENOENT (a recursive mkdir on a read-only volume)', coded('ENOENT'), 'file_system'],
    ['ENOTDIR', coded('ENOTDIR'), 'file_system'],
    [
      'a non-retriable kafkajs protocol error',
      kafkaError('KafkaJSProtocolError', {
        message: 'too large',
        type: 'MESSAGE_TOO_LARGE',
        code: 10,
        retriable: false,
      }),
      'unexpected',
    ],
  ])('%s is not retried', (_what, err, expected) => {
    expect(classifySinkError(err)).toBe(expected);
    expect(isRetryableClass(classifySinkError(err))).toBe(false);
  });

  it('stops at a cyclic cause chain', () => {
    const a: { cause?: unknown } & Error = new Error('a');
    const b = new Error('b', { cause: a });
    a.cause = b;
    expect(classifySinkError(a)).toBe('unexpected');
  });
});
