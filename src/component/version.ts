/**
 * heapstream's version, as `--version` prints it and the metrics API's `/version` reports it. Kept equal to
 * package.json's `version` by a test (test/build-contents.test.ts).
 *
 * @example
 * HEAPSTREAM_VERSION // '0.1.0'
 */
export const HEAPSTREAM_VERSION = '0.1.0';
