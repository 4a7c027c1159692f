/**
 * A decode worker: decodes node payloads with the decoder it was started with, interns their labels across
 * scrapes, and sends the sets back packed (set-transfer.ts). It keeps no other state, and knows nothing of
 * the pipeline: scraping, counting and logging stay on the main thread (NodeScraper).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { DecodeError, ScrapeError } from '../../component/errors.js';
import { DecodeReport, type DecodeOptions } from '../../model/decode-report.js';
import { LabelInterner } from '../../model/label-interner.js';
import { SetPacker, transferablesOf } from '../../model/set-transfer.js';
import type { MetricSet } from '../../model/types.js';
import type {
  DecodeFailure,
  DecodeRequest,
  DecodeResponse,
  DecoderRef,
  NodeNames,
  ReadyMessage,
} from './protocol.js';

type Decoder = (
  bytes: Uint8Array,
  node: NodeNames,
  options: DecodeOptions,
  what: string,
  extra: unknown,
) => MetricSet[];

const port = parentPort;
if (port === null) throw new Error('the decode worker runs as a worker thread');
const ref = workerData as DecoderRef;
const exported = ((await import(ref.module)) as Record<string, unknown>)[ref.name];
if (typeof exported !== 'function') throw new Error(`${ref.module} exports no function ${ref.name}`);
const decoder = exported as Decoder;

const interner = new LabelInterner();
const packer = new SetPacker();
const ready: ReadyMessage = { ready: true };
port.postMessage(ready);

port.on('message', (request: DecodeRequest) => {
  const report = new DecodeReport();
  let response: DecodeResponse;
  try {
    const options: DecodeOptions = {
      report,
      maxSets: request.maxSets,
      ...(request.maxSeries === undefined ? {} : { maxSeries: request.maxSeries }),
    };
    const sets = decoder(request.bytes, request.node, options, request.what, request.extra);
    interner.internSets(sets);
    const packed = packer.pack(request.node.name, sets);
    const { valuesOmitted, firstValue, setsOmitted, firstSet } = report;
    response = { id: request.id, packed, report: { valuesOmitted, firstValue, setsOmitted, firstSet } };
    port.postMessage(response, transferablesOf(packed));
    return;
  } catch (err) {
    response = { id: request.id, failure: failureOf(err, request.node.name) };
  }
  port.postMessage(response);
});

function failureOf(err: unknown, node: string): DecodeFailure {
  if (err instanceof ScrapeError) {
    // ScrapeError prefixes `node <name>: `; the main thread builds it again with the same prefix.
    const prefix = `node ${node}: `;
    const message = err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message;
    return { kind: 'scrape', reason: err.reason, message };
  }
  if (err instanceof DecodeError) return { kind: 'decode', message: err.message };
  const error = err instanceof Error ? err : new Error(String(err));
  return {
    kind: 'bug',
    message: error.message,
    ...(error.stack === undefined ? {} : { stack: error.stack }),
  };
}
