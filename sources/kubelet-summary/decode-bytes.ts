/**
 * Decodes a /stats/summary response from its bytes: the payload is read pruned to the fields decodeSummary
 * reads (src/kube/payload/pruned-json.ts), then decoded by decodeSummary itself, so the sets, the DecodeReport
 * and every DecodeError are those of `decodeSummary(JSON.parse(text))` by construction. Bytes that are not valid
 * JSON go through JSON.parse after all, for its error message.
 */
import { JsonSyntaxError } from '../../src/kube/payload/json-bytes.js';
import { ANY, arrayOf, objectShape, readPruned, TIME } from '../../src/kube/payload/pruned-json.js';
import { parseJsonBody } from '../../src/kube/node-scraper.js';
import type { DecodeOptions } from '../../src/model/decode-report.js';
import type { MetricSet } from '../../src/model/types.js';
import { decodeSummary, type NodeInfo } from './decode.js';

// The fields decode.ts reads, and nothing else: a field added there must be added here (the parity tests on
// every capture fail otherwise).
const CPU = objectShape({ time: TIME, usageCoreNanoSeconds: ANY });
const MEMORY = objectShape({
  time: TIME,
  usageBytes: ANY,
  workingSetBytes: ANY,
  rssBytes: ANY,
  pageFaults: ANY,
  majorPageFaults: ANY,
});
const NETWORK = objectShape({ time: TIME, rxBytes: ANY, rxErrors: ANY, txBytes: ANY, txErrors: ANY });
const FS_FIELDS = { usedBytes: ANY, capacityBytes: ANY, availableBytes: ANY, inodes: ANY, inodesFree: ANY };
const FS = objectShape(FS_FIELDS);
const CONTAINER = objectShape({
  name: ANY,
  startTime: TIME,
  cpu: CPU,
  memory: MEMORY,
  rootfs: FS,
  logs: FS,
  accelerators: arrayOf(
    objectShape({ make: ANY, model: ANY, id: ANY, memoryTotal: ANY, memoryUsed: ANY, dutyCycle: ANY }),
  ),
  userDefinedMetrics: arrayOf(objectShape({ type: ANY, name: ANY, value: ANY })),
});
const POD = objectShape({
  podRef: objectShape({ name: ANY, namespace: ANY, uid: ANY }),
  startTime: TIME,
  cpu: CPU,
  memory: MEMORY,
  network: NETWORK,
  'ephemeral-storage': objectShape({ usedBytes: ANY }),
  volume: arrayOf(objectShape({ name: ANY, ...FS_FIELDS })),
  containers: arrayOf(CONTAINER),
});
const SUMMARY = objectShape({
  node: objectShape({
    nodeName: ANY,
    startTime: TIME,
    cpu: CPU,
    memory: MEMORY,
    network: NETWORK,
    fs: FS,
    systemContainers: arrayOf(CONTAINER),
  }),
  pods: arrayOf(POD),
});

/**
 * decodeSummary of the response body `bytes`, without JSON.parse building the whole tree. `what` names the
 * response in the error for bytes that are not JSON (as parseJsonBody does).
 *
 * @example
 * const sets = decodeSummaryBytes(await client.getBytes(node, '/stats/summary'), { name: 'node-1' }, { report });
 */
export function decodeSummaryBytes(
  bytes: Uint8Array,
  node: NodeInfo,
  options: DecodeOptions = {},
  what = '/stats/summary',
): MetricSet[] {
  let payload: unknown;
  try {
    payload = readPruned(bytes, SUMMARY);
  } catch (err) {
    if (!(err instanceof JsonSyntaxError || err instanceof RangeError)) throw err;
    // JSON.parse says where the bytes go wrong (and, should it accept them after all, decodes them as ever).
    return decodeSummary(parseJsonBody(utf8Text(bytes), what), node, options);
  }
  return decodeSummary(payload, node, options);
}

/** The body as the old path read it: UTF-8, invalid sequences replaced by U+FFFD. */
function utf8Text(bytes: Uint8Array): string {
  const buffer = Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return buffer.toString('utf8');
}
