import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { DecodeError, ScrapeError } from '../../component/errors.js';
import type { DecodeReport } from '../../model/decode-report.js';
import { SetUnpacker } from '../../model/set-transfer.js';
import type { MetricSet } from '../../model/types.js';
import type {
  DecodeLimits,
  DecodeRequest,
  DecodeResponse,
  DecoderRef,
  NodeNames,
  ReadyMessage,
} from './protocol.js';
import { workerEntry } from './entry.js';

/** `workers: auto`: every core but one, which the main thread keeps for the pipeline and the sinks. */
export function workerCount(setting: number | 'auto'): number {
  return setting === 'auto' ? Math.max(1, availableParallelism() - 1) : setting;
}

/** The young generation of a decode thread's heap: a few node payloads' sets. */
const WORKER_YOUNG_GENERATION_MB = 16;

interface Pending {
  readonly node: string;
  readonly report: DecodeReport;
  readonly resolve: (sets: MetricSet[]) => void;
  readonly reject: (err: Error) => void;
}

/** One thread (started when first needed), its pending requests, and the table its sets are unpacked with. */
interface Lane {
  worker: Worker | undefined;
  /** Settles when the current worker has loaded its decoder, or failed to. */
  loaded: Promise<void>;
  unpacker: SetUnpacker;
  readonly pending: Map<number, Pending>;
}

/**
 * Decoding of node payloads on worker threads (`workers:` in the pipeline file), for the kubelet sources: the
 * main thread fetches, a worker decodes, and the sets come back packed, with their buffers transferred
 * (set-transfer.ts). Each node always goes to the same worker (by a hash of its name), which keeps the node's
 * interned labels, so an unchanged series has the same labels object every cycle, as without workers.
 *
 * A worker that dies (a bug, out of memory) fails the requests it had as decode errors of their nodes, and is
 * started again by the next request; the pipeline goes on.
 *
 * @example
 * const pool = new DecodePool(2, { module: moduleBeside(import.meta.url, './decode-bytes'), name: 'decodeSummaryBytes' });
 * const sets = await pool.decode(nodeNames, bytes, report, { maxSets: 10_000, what: '/stats/summary' });
 */
export class DecodePool {
  private readonly lanes: Lane[];
  private nextId = 0;
  private closed = false;

  constructor(
    size: number,
    private readonly decoder: DecoderRef,
  ) {
    if (!Number.isInteger(size) || size < 1)
      throw new RangeError(`a decode pool needs 1 or more workers, not ${size}`);
    this.lanes = Array.from({ length: size }, () => ({
      worker: undefined,
      loaded: Promise.resolve(),
      unpacker: new SetUnpacker(),
      pending: new Map(),
    }));
  }

  get size(): number {
    return this.lanes.length;
  }

  /**
   * The node's sets from its payload's bytes; fills `report` with what the decoder omitted. Rejects with the
   * decoder's ScrapeError or DecodeError, as an in-process decode would throw them. The bytes are copied once
   * and the copy moved to the worker.
   */
  decode(
    node: NodeNames,
    bytes: Uint8Array,
    report: DecodeReport,
    limits: DecodeLimits,
  ): Promise<MetricSet[]> {
    if (this.closed) return Promise.reject(new Error('the decode pool is closed'));
    const lane = this.laneOf(node.name);
    const id = this.nextId++;
    // A copy of its own to move: a Buffer may be cut from a pool shared with others, which Node refuses to transfer
    // (Node 24 refused even the large bodies undici gives), and a copy costs little next to the decoding.
    const own = new Uint8Array(bytes.byteLength);
    own.set(bytes);
    const request: DecodeRequest = { ...limits, id, node, bytes: own };
    const worker = (lane.worker ??= this.start(lane));
    return new Promise<MetricSet[]>((resolve, reject) => {
      // Held by the process only while it owes answers: an idle pool does not keep a finished run alive.
      if (lane.pending.size === 0) worker.ref();
      lane.pending.set(id, { node: node.name, report, resolve, reject });
      worker.postMessage(request, [own.buffer]);
    });
  }

  /**
   * Starts every worker and resolves once each has loaded its decoder (loading TypeScript sources takes a
   * second or more), so that the first cycle is not slower than the next; rejects if one fails to load.
   */
  async ready(): Promise<void> {
    await Promise.all(
      this.lanes.map((lane) => {
        lane.worker ??= this.start(lane);
        return lane.loaded;
      }),
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.lanes.map((lane) => lane.worker?.terminate() ?? Promise.resolve(0)));
  }

  private laneOf(node: string): Lane {
    // FNV-1a: stable across runs and processes, so a node keeps its worker (and its interned labels).
    let hash = 0x811c9dc5;
    for (let i = 0; i < node.length; i++) hash = Math.imul(hash ^ node.charCodeAt(i), 0x01000193);
    return this.lanes[(hash >>> 0) % this.lanes.length] as Lane;
  }

  private start(lane: Lane): Worker {
    const worker = new Worker(workerEntry(), {
      workerData: this.decoder,
      // What a worker allocates (one payload's sets at a time) dies before the next payload: a small young
      // generation is enough, and the process's --max-semi-space-size (the bench's 64 MB) would otherwise be
      // reserved again per thread.
      resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
    });
    let loaded!: () => void;
    let failed!: (err: Error) => void;
    lane.loaded = new Promise<void>((resolve, reject) => {
      loaded = resolve;
      failed = reject;
    });
    // Whoever does not wait for it (a decode started a worker again) must not see an unhandled rejection.
    lane.loaded.catch(() => {});
    worker.on('message', (response: DecodeResponse | ReadyMessage) => {
      if ('ready' in response) loaded();
      else this.answer(lane, worker, response);
    });
    worker.on('error', (err) => failed(err));
    worker.on('exit', (code) => failed(new Error(`a decode worker exited (code ${code}) while loading`)));
    worker.on('error', (err) => this.failAll(lane, `its decode worker failed: ${err.message}`));
    worker.on('exit', (code) => {
      if (lane.worker !== worker) return;
      this.failAll(lane, `its decode worker exited (code ${code})`);
      // Started again by the next request, not here: a decoder that cannot load must not spin. A new thread
      // starts with an empty table, and so must the receiver's.
      lane.worker = undefined;
      lane.unpacker = new SetUnpacker();
    });
    worker.unref();
    return worker;
  }

  private answer(lane: Lane, worker: Worker, response: DecodeResponse): void {
    const pending = lane.pending.get(response.id);
    if (pending === undefined) return;
    lane.pending.delete(response.id);
    if (lane.pending.size === 0) worker.unref();
    if ('failure' in response) {
      const failure = response.failure;
      if (failure.kind === 'scrape')
        pending.reject(new ScrapeError(pending.node, failure.reason, failure.message));
      else if (failure.kind === 'decode') pending.reject(new DecodeError(failure.message));
      else {
        const err = new Error(`decode worker: ${failure.message}`);
        if (failure.stack !== undefined) err.stack = failure.stack;
        pending.reject(err);
      }
      return;
    }
    Object.assign(pending.report, response.report);
    pending.resolve(lane.unpacker.unpack(response.packed));
  }

  private failAll(lane: Lane, why: string): void {
    for (const [id, pending] of lane.pending) {
      lane.pending.delete(id);
      pending.reject(new DecodeError(why));
    }
  }
}
