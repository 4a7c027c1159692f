import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { PermanentError, RetryableError } from '../../src/component/errors.js';
import { classifyKafkaError } from './kafka-errors.js';

// kafkajs' typings omit the constructor arguments these classes take at run time.
type Ctor = new (...args: unknown[]) => Error;
const errors = kafkajs as unknown as Record<string, Ctor>;
const make = (name: string, ...args: unknown[]) => new (errors[name] as Ctor)(...args);
const protocol = (type: string, retriable: boolean) =>
  make('KafkaJSProtocolError', { message: `broker said ${type}`, type, code: 1, retriable });

describe('kafka error classification', () => {
  it.each([
    [
      'connection refused',
      make('KafkaJSConnectionError', 'Connection error: connect ECONNREFUSED', { code: 'ECONNREFUSED' }),
    ],
    ['a request timeout', make('KafkaJSRequestTimeoutError', 'Request Produce timed out')],
    ['a leader moving', protocol('NOT_LEADER_OR_FOLLOWER', true)],
    [
      'retries exhausted on a connection error',
      make('KafkaJSNumberOfRetriesExceeded', make('KafkaJSConnectionError', 'Connection error: reset'), {
        retryCount: 3,
      }),
    ],
  ])('%s is retryable', (_what, err) => {
    const { error, resetProducer } = classifyKafkaError(err, 'kafka k:9092');
    expect(error).toBeInstanceOf(RetryableError);
    expect(resetProducer).toBe(false);
    expect(error.message).toContain(`kafka k:9092: ${err.message}`);
    expect(error.cause).toBe(err);
  });

  it.each([
    [
      'bad SASL credentials',
      make('KafkaJSSASLAuthenticationError', 'SASL SCRAM SHA512 authentication failed'),
    ],
    ['SASL against a listener without it', protocol('ILLEGAL_SASL_STATE', false)],
    ['a message too large', protocol('MESSAGE_TOO_LARGE', false)],
    ['a topic we may not write', protocol('TOPIC_AUTHORIZATION_FAILED', false)],
    [
      'an untrusted certificate',
      make('KafkaJSConnectionError', 'Connection error: self-signed certificate', {
        code: 'DEPTH_ZERO_SELF_SIGNED_CERT',
      }),
    ],
  ])('%s is permanent', (_what, err) => {
    expect(classifyKafkaError(err, 'kafka k:9092').error).toBeInstanceOf(PermanentError);
  });

  it('a broken producer sequence is retried with a new producer', () => {
    const wrapped = make(
      'KafkaJSNumberOfRetriesExceeded',
      protocol('OUT_OF_ORDER_SEQUENCE_NUMBER', false),
      {},
    );
    const { error, resetProducer } = classifyKafkaError(wrapped, 'kafka k:9092');
    expect(error).toBeInstanceOf(RetryableError);
    expect(resetProducer).toBe(true);
  });
});
