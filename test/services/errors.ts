import { HeapstreamError } from '../../src/component/errors.js';

/**
 * A test service (Kafka, InfluxDB, VictoriaMetrics) could not be installed, started or stopped. The message names the
 * service and ends with the last lines of its log, so a failing CI run says why without a rerun.
 *
 * @example
 * throw new ServiceError('kafka did not answer within 120s', { cause: err });
 */
export class ServiceError extends HeapstreamError {}
