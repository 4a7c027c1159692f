import type { EncodedBatch, PieceWriter } from '../component/pieces.js';
import type { MetricBatch } from '../model/types.js';
import { classifySinkError, isRetryableClass } from './error-class.js';

/** A batch on its way: its pieces and how many of them are written. The runner holds it across retries. */
export interface PieceProgress<P> {
  readonly encoded: EncodedBatch<P>;
  written: number;
}

/** A write waiting for its batch's pieces to be acknowledged. */
interface PendingWrite<P> {
  readonly progress: PieceProgress<P>;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

/** One piece of one batch inside a merged request. */
interface RequestPart<P> {
  readonly progress: PieceProgress<P>;
  readonly piece: number;
}

/**
 * The runner's side of a piecewise sink (see PieceWriter): keeps each batch's progress, so that a retry resends
 * only what was not written, and, for a sink that merges, the requests shared by the batches in flight.
 *
 * Follows the split in the OpenTelemetry Collector's exporterhelper: its queue and batch sender own queueing,
 * batching by size (items or bytes), retries and timeouts, while an exporter's Request only knows how to export
 * itself and its size; a request that failed in part answers `OnError` with the request of the items left to send,
 * so a retry sends only those. Here PieceWriter is the exporter's side (encode, send, bytesOf) and the progress
 * kept per batch plays OnError's part. Vector's sinks split the same way (a request builder encodes, a service
 * sends, the driver batches and retries). The engine keeps the state; the sink keeps none between requests.
 */
export class PieceSender<P> {
  private queue: PendingWrite<P>[] = [];
  /** A merged request that failed: its outcome is unknown, so it goes again, unchanged, before anything else. */
  private inDoubt: RequestPart<P>[] | undefined;
  private sending = false;

  constructor(private readonly writer: PieceWriter<P>) {}

  /** Encodes a batch: the progress its writes share. */
  plan(batch: MetricBatch): PieceProgress<P> {
    return { encoded: this.writer.encode(batch), written: 0 };
  }

  /** Writes what is left of a batch; resolves once all of it is accepted. Safe to call again after a failure. */
  write(progress: PieceProgress<P>): Promise<void> {
    if (this.writer.merge === undefined) return this.writeAlone(progress);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ progress, resolve, reject });
      void this.pump();
    });
  }

  private async writeAlone(progress: PieceProgress<P>): Promise<void> {
    const pieces = progress.encoded.pieces;
    while (progress.written < pieces.length) {
      await this.writer.send([pieces[progress.written] as P]);
      progress.written++;
    }
    const error = progress.encoded.settle?.();
    if (error !== undefined) throw error;
  }

  /** Sends requests while writes are waiting; on a failure, fails every waiting write (the runner retries). */
  private async pump(): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    try {
      while (this.queue.length > 0) {
        // Writes that arrive in the same tick (the runner starts its batches in flight in one go) share the request.
        await Promise.resolve();
        this.settleCompleted();
        if (this.queue.length === 0) break;
        const parts = this.inDoubt ?? this.nextRequest();
        try {
          await this.writer.send(parts.map((p) => p.progress.encoded.pieces[p.piece] as P));
        } catch (err) {
          // Sent again first if it may pass later; a request refused for good is not (its batches get isolated).
          this.inDoubt = isRetryableClass(classifySinkError(err)) ? parts : undefined;
          // Every waiting write fails now: the runner retries each with its backoff.
          this.failQueued(err);
          continue;
        }
        this.inDoubt = undefined;
        for (const part of parts) part.progress.written = Math.max(part.progress.written, part.piece + 1);
      }
    } finally {
      this.sending = false;
    }
  }

  /** The next pieces in write order, as many as fit in one request; a batch's pieces stay in order. */
  private nextRequest(): RequestPart<P>[] {
    const merge = this.writer.merge as NonNullable<PieceWriter<P>['merge']>;
    const parts: RequestPart<P>[] = [];
    const taken = new Set<PieceProgress<P>>();
    let bytes = 0;
    for (const { progress } of this.queue) {
      if (taken.has(progress)) continue; // the runner's retry of a write still waiting here
      taken.add(progress);
      const pieces = progress.encoded.pieces;
      for (let piece = progress.written; piece < pieces.length; piece++) {
        const size = merge.bytesOf(pieces[piece] as P);
        if (parts.length > 0 && bytes + size > merge.maxBytes) return parts;
        parts.push({ progress, piece });
        bytes += size;
      }
    }
    return parts;
  }

  /** Resolves the writes whose batches are fully acknowledged (or fails them with what their sink settles). */
  private settleCompleted(): void {
    const waiting: PendingWrite<P>[] = [];
    for (const write of this.queue) {
      const { encoded, written } = write.progress;
      if (written < encoded.pieces.length) {
        waiting.push(write);
        continue;
      }
      const error = encoded.settle?.();
      if (error === undefined) write.resolve();
      else write.reject(error);
    }
    this.queue = waiting;
  }

  private failQueued(err: unknown): void {
    const failed = this.queue;
    this.queue = [];
    for (const write of failed) write.reject(err);
  }
}
