import type { MetricBatch } from '../model/types.js';

/**
 * One batch as a sink encoded it: pieces that each fit one request. The sink runner keeps it, with how many
 * pieces are written, for as long as it delivers the batch: a retry resends only the pieces not yet written.
 */
export interface EncodedBatch<P> {
  readonly pieces: readonly P[];
  /**
   * Called once every piece is written: an error for what the sink could not deliver (sets too large to encode,
   * lines the server refused), as a PermanentError with `partial: true` so that nothing is sent again.
   */
  settle?(): Error | undefined;
}

/**
 * The part of a sink the runner calls when it delivers batches piece by piece: the sink encodes and sends, the
 * runner keeps everything that lasts longer than one request (the queue, each batch's progress, the request in
 * doubt, which batches share a request).
 *
 * Without `merge`, each piece is its own request and the runner writes the batches it has in flight side by side
 * (InfluxDB bodies bounded by `batch.max_bytes`). With `merge`, the pieces of every batch in flight share requests
 * of up to `maxBytes`, one request at a time, and a request that failed is sent again unchanged before anything
 * else (Kafka: an idempotent producer's sequence numbers then let the broker drop what it already appended).
 *
 * @example
 * const pieces: PieceWriter<string> = {
 *   encode: (batch) => ({ pieces: batch.sets.map((s) => JSON.stringify(s.key)) }),
 *   send: (lines) => post(lines.join('\n')),
 *   merge: { maxBytes: 1_000_000, bytesOf: (line) => line.length },
 * };
 */
export interface PieceWriter<P> {
  /** Encodes a batch once; an error thrown here is the batch's (the runner isolates the sets that cause it). */
  encode(batch: MetricBatch): EncodedBatch<P>;
  /** Sends pieces, in order, as one request; resolves once they are accepted, throws as `Sink.write` does. */
  send(pieces: readonly P[]): Promise<void>;
  readonly merge?: {
    readonly maxBytes: number;
    bytesOf(piece: P): number;
  };
}

/**
 * Writes a whole batch through a piece writer without the runner, one request a piece: what `Sink.write` of a
 * piecewise sink does when it is called directly (a test, a tool).
 *
 * @example
 * const sink = { pieces, write: (batch) => writeAllPieces(pieces, batch), close: async () => {} };
 */
export async function writeAllPieces<P>(writer: PieceWriter<P>, batch: MetricBatch): Promise<void> {
  const encoded = writer.encode(batch);
  for (const piece of encoded.pieces) await writer.send([piece]);
  const error = encoded.settle?.();
  if (error !== undefined) throw error;
}
