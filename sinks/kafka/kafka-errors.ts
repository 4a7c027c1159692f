import { PermanentError, RetryableError } from '../../src/component/errors.js';

/** Broker error types that the same request will hit again: retrying cannot help, someone must act. */
const PERMANENT_PROTOCOL_ERRORS = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_TOPIC_EXCEPTION',
  'TOPIC_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
  'SASL_AUTHENTICATION_FAILED',
  'UNSUPPORTED_SASL_MECHANISM',
  'ILLEGAL_SASL_STATE',
  'INVALID_REQUIRED_ACKS',
  'UNSUPPORTED_COMPRESSION_TYPE',
  'UNSUPPORTED_FOR_MESSAGE_FORMAT',
  'INVALID_RECORD',
  'UNSUPPORTED_VERSION',
  'POLICY_VIOLATION',
]);

/** Broker errors saying this producer's id or sequence numbers are no longer valid: start a new producer. */
const PRODUCER_STATE_ERRORS = new Set([
  'OUT_OF_ORDER_SEQUENCE_NUMBER',
  'UNKNOWN_PRODUCER_ID',
  'INVALID_PRODUCER_EPOCH',
  'INVALID_PRODUCER_ID_MAPPING',
  'PRODUCER_FENCED',
]);

/** kafkajs errors that are about the client or its configuration, never about the moment. */
const PERMANENT_CLIENT_ERRORS = new Set([
  'KafkaJSSASLAuthenticationError',
  'KafkaJSServerDoesNotSupportApiKey',
  'KafkaJSNotImplemented',
  'KafkaJSUnsupportedMagicByteInMessageSet',
]);

/** Node's TLS verification failures: the certificate will not change between attempts. */
const PERMANENT_TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
]);

export interface ClassifiedError {
  readonly error: RetryableError | PermanentError;
  /** The producer's idempotence state is broken: drop it and start a new one before the next attempt. */
  readonly resetProducer: boolean;
}

interface ErrorFields {
  name?: unknown;
  type?: unknown;
  code?: unknown;
  message?: unknown;
  cause?: unknown;
  originalError?: unknown;
}

/**
 * Tells a kafkajs failure that may pass (broker down, leader moving, timeout) from one that will not (bad
 * credentials, message too large, TLS verification), looking through kafkajs' wrappers to the first cause.
 *
 * @example
 * catch (err) { const { error } = classifyKafkaError(err, 'kafka 127.0.0.1:9092 topic m'); throw error; }
 */
export function classifyKafkaError(err: unknown, where: string): ClassifiedError {
  const chain = causeChain(err);
  const message = `${where}: ${describeChain(chain)}`;
  for (const e of chain) {
    if (typeof e.type === 'string' && PRODUCER_STATE_ERRORS.has(e.type)) {
      return { error: new RetryableError(message, { cause: err }), resetProducer: true };
    }
  }
  for (const e of chain) {
    const permanent =
      (typeof e.type === 'string' && PERMANENT_PROTOCOL_ERRORS.has(e.type)) ||
      (typeof e.name === 'string' && PERMANENT_CLIENT_ERRORS.has(e.name)) ||
      (typeof e.code === 'string' && PERMANENT_TLS_CODES.has(e.code));
    if (permanent) return { error: new PermanentError(message, { cause: err }), resetProducer: true };
  }
  return { error: new RetryableError(message, { cause: err }), resetProducer: false };
}

function causeChain(err: unknown): ErrorFields[] {
  const chain: ErrorFields[] = [];
  let current: unknown = err;
  while (typeof current === 'object' && current !== null && chain.length < 8 && !chain.includes(current)) {
    const fields = current as ErrorFields;
    chain.push(fields);
    current = fields.originalError ?? fields.cause;
  }
  return chain;
}

function describeChain(chain: readonly ErrorFields[]): string {
  const parts: string[] = [];
  for (const e of chain) {
    const text = typeof e.message === 'string' ? e.message : '';
    if (text !== '' && !parts.includes(text)) parts.push(text);
  }
  return parts.length === 0 ? 'unknown error' : parts.join(': ');
}
