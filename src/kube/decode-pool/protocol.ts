import type { PackedSets } from '../../model/set-transfer.js';
import type { ScrapeFailureReason } from '../../model/types.js';

/**
 * What a decode worker is started with: the decoder it runs, named by module URL and export, so that each
 * kubelet source keeps its own decoder and the pool knows none of them.
 */
export interface DecoderRef {
  /** A `file:` URL of the module (see moduleBeside). */
  readonly module: string;
  /**
   * The exported function: `(bytes, node, options, what, extra) => MetricSet[]`, like decodeSummaryBytes (which
   * takes no `extra`).
   */
  readonly name: string;
}

/** The node's names as decoders want them (kubelet-source.ts nodeInfo). */
export interface NodeNames {
  readonly name: string;
  readonly hostname?: string;
  readonly hostId?: string;
}

/** The limits and settings of one decode, as they cross to the worker. */
export interface DecodeLimits {
  readonly maxSets: number;
  /** Prometheus text only: the most samples one payload may hold. */
  readonly maxSeries?: number;
  /** The endpoint, named in decode errors (`/stats/summary`). */
  readonly what: string;
  /** What else the source's decoder takes (structured-cloneable), its fifth argument. */
  readonly extra?: unknown;
}

export interface DecodeRequest extends DecodeLimits {
  readonly id: number;
  readonly node: NodeNames;
  readonly bytes: Uint8Array;
}

/** The DecodeReport's fields, as they cross back. */
export interface ReportFields {
  readonly valuesOmitted: number;
  readonly firstValue: string | undefined;
  readonly setsOmitted: number;
  readonly firstSet: string | undefined;
}

export type DecodeFailure =
  | { readonly kind: 'decode'; readonly message: string }
  | { readonly kind: 'scrape'; readonly reason: ScrapeFailureReason; readonly message: string }
  /** Anything else the decoder threw: a bug, reported as such on the main thread. */
  | { readonly kind: 'bug'; readonly message: string; readonly stack?: string };

export type DecodeResponse =
  | { readonly id: number; readonly packed: PackedSets; readonly report: ReportFields }
  | { readonly id: number; readonly failure: DecodeFailure };

/** Sent once by a worker when its decoder has loaded. */
export interface ReadyMessage {
  readonly ready: true;
}
