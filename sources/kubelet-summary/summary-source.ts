import { EMPTY, Observable, concat, defer, finalize, from, mergeMap, of, type Observable as Obs } from 'rxjs';
import type { SourceContext } from '../../src/engine/component.js';
import type { Tick } from '../../src/engine/clock.js';
import { DecodeError, ScrapeError } from '../../src/errors.js';
import { KubeletClient } from '../../src/kube/kubelet-client.js';
import { createDiscovery } from '../../src/kube/discovery.js';
import type { NodeTarget } from '../../src/kube/node-target.js';
import type { CycleEnd, NodeBatch, NodeFailure, PipelineEvent } from '../../src/model/types.js';
import type { SummarySourceConfig } from './config.js';
import { decodeSummary } from './decode.js';

type ScrapeOutcome = { ok: true; batch: NodeBatch } | { ok: false; failure: NodeFailure };

/**
 * Scrapes `GET /stats/summary` of every known node once per tick. Each node's batch is emitted as soon as it
 * is decoded, so a slow kubelet delays only itself; the cycle's CycleEnd follows the last answer or timeout.
 */
export function summarySource(config: SummarySourceConfig, ctx: SourceContext): Observable<PipelineEvent> {
  return defer(() => {
    const discovery = createDiscovery(config.discovery, {
      defaultPort: config.port,
      provideMetadata: ctx.provideMetadata,
    });
    const client = new KubeletClient(
      { scheme: config.scheme, timeoutMs: config.timeout, maxResponseBytes: config.max_response_bytes },
      ctx.clock,
    );
    const scraper = new NodeScraper(config, ctx, client);
    return from(discovery.start()).pipe(
      mergeMap(() => ctx.ticks),
      mergeMap((tick) => scraper.cycle(tick, discovery.nodes())),
      finalize(() => {
        void client.close();
        void discovery.stop();
      }),
    );
  });
}

class NodeScraper {
  /** Nodes whose previous scrape is still running: scraping them again would only pile up requests. */
  private readonly inFlight = new Set<string>();
  private readonly scrapes;
  private readonly log;

  constructor(
    private readonly config: SummarySourceConfig,
    private readonly ctx: SourceContext,
    private readonly client: KubeletClient,
  ) {
    ctx.telemetry.describe('heapstream_scrapes_total', 'Node scrapes, by result.');
    ctx.telemetry.describe('heapstream_scrape_errors_total', 'Failed node scrapes, by node and reason.');
    ctx.telemetry.describe('heapstream_scrape_duration_seconds', 'Time to scrape and decode one node.');
    this.scrapes = ctx.telemetry.counter('heapstream_scrapes_total', { source: ctx.name, result: 'ok' });
    this.log = ctx.logger;
  }

  cycle(tick: Tick, nodes: readonly NodeTarget[]): Obs<PipelineEvent> {
    const started = this.ctx.clock.now();
    const failures: NodeFailure[] = [];
    let answered = 0;
    const batches = from(nodes).pipe(
      mergeMap((node) => from(this.scrape(node, tick)), this.config.concurrency),
      mergeMap((outcome): Obs<PipelineEvent> => {
        if (outcome.ok) {
          answered++;
          return of(outcome.batch);
        }
        failures.push(outcome.failure);
        return EMPTY;
      }),
    );
    const end = defer(() => {
      const mark: CycleEnd = {
        kind: 'cycle_end',
        cycle: tick.cycle,
        timestamp: tick.time,
        nodesExpected: nodes.length,
        nodesAnswered: answered,
        failures,
        durationMs: this.ctx.clock.now() - started,
      };
      return of(mark);
    });
    return concat(batches, end);
  }

  private async scrape(node: NodeTarget, tick: Tick): Promise<ScrapeOutcome> {
    if (this.inFlight.has(node.name)) {
      return this.fail(node, 'busy', 'the previous scrape of this node is still running; skipped this cycle');
    }
    this.inFlight.add(node.name);
    const started = this.ctx.clock.now();
    try {
      const text = await this.client.get(node, this.config.path, this.ctx.signal);
      const sets = decodeSummary(parseJson(text), {
        name: node.name,
        ...(node.hostname === undefined ? {} : { hostname: node.hostname }),
        ...(node.hostId === undefined ? {} : { hostId: node.hostId }),
      });
      this.scrapes.inc();
      this.ctx.telemetry
        .histogram('heapstream_scrape_duration_seconds', { source: this.ctx.name })
        .observe((this.ctx.clock.now() - started) / 1000);
      return {
        ok: true,
        batch: { kind: 'batch', scope: 'node', node: node.name, cycle: tick.cycle, timestamp: tick.time, sets },
      };
    } catch (err) {
      if (err instanceof ScrapeError) return this.fail(node, err.reason, err.message);
      if (err instanceof DecodeError) {
        return this.fail(node, 'decode', `node ${node.name}: ${this.config.path}: ${err.message}`);
      }
      throw err;
    } finally {
      this.inFlight.delete(node.name);
    }
  }

  private fail(node: NodeTarget, reason: NodeFailure['reason'], message: string): ScrapeOutcome {
    this.ctx.telemetry.counter('heapstream_scrapes_total', { source: this.ctx.name, result: 'error' }).inc();
    this.ctx.telemetry
      .counter('heapstream_scrape_errors_total', { source: this.ctx.name, node: node.name, reason })
      .inc();
    this.log.warn({ node: node.name, reason }, message);
    return { ok: false, failure: { node: node.name, reason, message } };
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new DecodeError(
      `response is not valid JSON (${(err as Error).message}; ${text.length} bytes received)`,
      { cause: err },
    );
  }
}
