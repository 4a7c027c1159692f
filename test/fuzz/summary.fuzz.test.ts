/**
 * Property-based tests of the kubelet_summary decoder: real payloads with hostile values put in (uint64
 * sentinels, 1.2e32, negatives, huge strings, structures where scalars belong, duplicate keys, missing fields,
 * repeated pods). Whatever comes in, decoding ends fast with sets a sink can write or a DecodeError, and the
 * decoder that reads the bytes gives exactly what JSON.parse + decodeSummary gives.
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { parseJsonBody } from '../../src/kube/node-scraper.js';
import { decodeSummary } from '../../sources/kubelet-summary/decode.js';
import { expectSameAsJsonParse } from '../support/summary-parity.js';
import { summaryCaptures } from './captures.js';
import {
  expectDecodesSafely,
  fuzzParameters,
  fuzzTimeout,
  mutatedCapture,
  mutatedJsonText,
} from './support.js';

const RUNS = 400;
const captures = summaryCaptures();

function decode(text: string): ReturnType<typeof decodeSummary> {
  return decodeSummary(parseJsonBody(text, '/stats/summary'), { name: 'fuzz-node', hostId: 'i-0fuzz' });
}

describe('kubelet_summary decoder under hostile payloads', () => {
  it('decodes every real capture as it is', () => {
    for (const capture of captures) expectDecodesSafely(() => decode(JSON.stringify(capture.document)));
  });

  it(
    'returns writable sets or throws a DecodeError, fast, for any mutation of a real payload',
    () => {
      fc.assert(
        fc.property(mutatedCapture(captures), ([capture, mutations]) => {
          const text = mutatedJsonText(capture.document, mutations);
          expectDecodesSafely(() => decode(text));
        }),
        fuzzParameters(RUNS),
      );
    },
    fuzzTimeout(RUNS, 200),
  );

  it(
    'keeps integer values within int64 when any number is a uint64 sentinel or overflows',
    () => {
      // Aimed at the case real kubelets hit: every mutation replaces a number by a value beyond int64.
      const input = fc.constantFrom(...captures).chain((capture) =>
        fc.tuple(
          fc.constant(capture),
          fc.array(
            fc.record({
              op: fc.constant('replace' as const),
              path: fc.constantFrom(...capture.index.numbers),
              value: fc.constantFrom(2 ** 64, 2 ** 63, 1.2e32, 1e308),
            }),
            { minLength: 1, maxLength: 3 },
          ),
        ),
      );
      fc.assert(
        fc.property(input, ([capture, mutations]) => {
          expectDecodesSafely(() => decode(mutatedJsonText(capture.document, mutations)));
        }),
        fuzzParameters(RUNS),
      );
    },
    fuzzTimeout(RUNS, 200),
  );

  it(
    'decodes the bytes exactly as JSON.parse + decodeSummary does, or fails with the same error',
    () => {
      fc.assert(
        fc.property(mutatedCapture(captures), fc.boolean(), ([capture, mutations], small) => {
          const bytes = Buffer.from(mutatedJsonText(capture.document, mutations));
          // A small limit as well, so that the too_large rule meets the mutations (repeated pods and containers).
          expectSameAsJsonParse(bytes, { name: 'fuzz-node', hostId: 'i-0fuzz' }, small ? 40 : undefined);
        }),
        fuzzParameters(RUNS),
      );
    },
    fuzzTimeout(RUNS, 200),
  );
});
