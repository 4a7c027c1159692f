/**
 * The contract of the Summary decoder that reads bytes: whatever the bytes, it gives what the old path
 * (UTF-8 text, JSON.parse, decodeSummary) gives — the same sets in the same order with the same key order, the
 * same DecodeReport — or throws the same error class with the same message.
 */
import { expect } from 'vitest';
import { parseJsonBody } from '../../src/kube/node-scraper.js';
import { DecodeReport } from '../../src/model/decode-report.js';
import type { MetricSet } from '../../src/model/types.js';
import { decodeSummary, type NodeInfo } from '../../sources/kubelet-summary/decode.js';
import { decodeSummaryBytes } from '../../sources/kubelet-summary/decode-bytes.js';

type Outcome =
  | { readonly sets: MetricSet[]; readonly report: DecodeReport }
  | { readonly error: { readonly name: string; readonly message: string; readonly type: unknown } };

function outcome(decode: (report: DecodeReport) => MetricSet[]): Outcome {
  const report = new DecodeReport();
  try {
    return { sets: decode(report), report };
  } catch (error) {
    if (!(error instanceof Error)) throw error;
    return { error: { name: error.name, message: error.message, type: error.constructor } };
  }
}

/**
 * Decodes `bytes` both ways and asserts the outcomes are the same; returns the old path's sets (undefined when
 * it threw).
 *
 * @example
 * expectSameAsJsonParse(readFileSync(capture), { name: 'node-1' });
 */
export function expectSameAsJsonParse(
  bytes: Buffer,
  node: NodeInfo,
  maxSets?: number,
): MetricSet[] | undefined {
  const limit = maxSets === undefined ? {} : { maxSets };
  const old = outcome((report) =>
    decodeSummary(parseJsonBody(bytes.toString('utf8'), '/stats/summary'), node, { report, ...limit }),
  );
  const fresh = outcome((report) => decodeSummaryBytes(bytes, node, { report, ...limit }, '/stats/summary'));
  expect(fresh).toStrictEqual(old);
  if ('sets' in old && 'sets' in fresh) {
    // toStrictEqual ignores the order of keys; sinks that iterate labels and values do not.
    expect(JSON.stringify(fresh.sets)).toBe(JSON.stringify(old.sets));
    return old.sets;
  }
  return undefined;
}
