/**
 * Property-based tests of the kubelet_cadvisor decoder: real cAdvisor v1 payloads with hostile values put in,
 * above all in `spec.labels` (numbers and arrays where the pod's name and namespace are) and in the stats.
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { parseJsonBody } from '../../src/kube/node-scraper.js';
import { decodeContainerInfos } from '../../sources/kubelet-cadvisor/decode.js';
import { cadvisorCaptures } from './captures.js';
import {
  expectDecodesSafely,
  fuzzParameters,
  fuzzTimeout,
  hostileValue,
  mutatedCapture,
  mutatedJsonText,
  type JsonMutation,
} from './support.js';

const RUNS = 300;
const captures = cadvisorCaptures();

function decode(text: string, samples: 'last' | 'all'): ReturnType<typeof decodeContainerInfos> {
  return decodeContainerInfos(parseJsonBody(text, '/stats/container/'), { name: 'fuzz-node' }, samples);
}

describe('kubelet_cadvisor decoder under hostile payloads', () => {
  it('decodes every real capture as it is', () => {
    for (const capture of captures) {
      expectDecodesSafely(() => decode(JSON.stringify(capture.document), 'last'));
      expectDecodesSafely(() => decode(JSON.stringify(capture.document), 'all'));
    }
  });

  it(
    'returns writable sets or throws a DecodeError, fast, for any mutation of a real payload',
    () => {
      const input = fc.tuple(mutatedCapture(captures), fc.constantFrom('last' as const, 'all' as const));
      fc.assert(
        fc.property(input, ([[capture, mutations], samples]) => {
          expectDecodesSafely(() => decode(mutatedJsonText(capture.document, mutations), samples));
        }),
        fuzzParameters(RUNS),
      );
    },
    fuzzTimeout(RUNS, 300),
  );

  it(
    'never emits a label that is not a string, whatever spec.labels and spec.image hold',
    () => {
      const capture = captures.find((c) => c.index.all.some((p) => p.includes('labels')))!;
      const labelPaths = capture.index.all.filter((p) => {
        const i = p.indexOf('labels');
        return (i >= 0 && i === p.length - 2) || p[p.length - 1] === 'image';
      });
      const mutation: fc.Arbitrary<JsonMutation> = fc.record({
        op: fc.constant('replace' as const),
        path: fc.constantFrom(...labelPaths),
        value: hostileValue,
      });
      fc.assert(
        fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (mutations) => {
          expectDecodesSafely(() => decode(mutatedJsonText(capture.document, mutations), 'last'));
        }),
        fuzzParameters(RUNS),
      );
    },
    fuzzTimeout(RUNS, 300),
  );
});
