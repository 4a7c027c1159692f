import { EMPTY, concat, defer, from, mergeMap, of, type Observable } from 'rxjs';
import type { SourceContext } from '../component/component.js';
import type { Tick } from '../component/clock.js';
import { LogLimiter } from '../component/log-limiter.js';
import { DecodeError, ScrapeError } from '../component/errors.js';
import type { CycleEnd, MetricSet, NodeBatch, NodeFailure, PipelineEvent } from '../model/types.js';
import { DecodeReport } from '../model/decode-report.js';
import { valuesInSet } from '../model/count.js';
import type { NodeTarget } from '../component/node-target.js';
import type { ShardCoverage } from '../model/shard.js';

type ScrapeOutcome = { ok: true; batch: NodeBatch; ms: number } | { ok: false; failure: NodeFailure };

/**
 * Fetches and decodes one node; throws ScrapeError or DecodeError. Shared by every kubelet source. The decoder
 * fills `report` with what it omitted; the scraper counts and logs it.
 */
export type ScrapeNode = (
  node: NodeTarget,
  tick: Tick,
  signal: AbortSignal,
  report: DecodeReport,
) => Promise<MetricSet[]>;

/**
 * Runs one cycle over the known nodes: every node is scraped on its own (up to `concurrency` at once), its
 * batch is emitted as soon as it is decoded, and a CycleEnd follows the last answer or timeout. A failure
 * touches only its own node: it is counted by reason, logged, and listed in the CycleEnd. What a decoder
 * omitted (values out of range, sets with a bad label) and an answer without a single value are counted and
 * logged per node, rate-limited, while the rest of the node's batch goes on.
 *
 * @example
 * const scraper = new NodeScraper(ctx, 256, (node, tick, signal) => fetchAndDecode(node, signal));
 * ctx.ticks.pipe(mergeMap((tick) => scraper.cycle(tick, discovery.nodes())));
 */
export class NodeScraper {
  /** Nodes whose previous scrape is still running: scraping them again would only pile up requests. */
  private readonly inFlight = new Set<string>();
  /** Nodes whose last scrape failed, so their recovery is logged once. */
  private readonly failing = new Set<string>();
  private readonly okScrapes;
  private readonly failedScrapes;
  private readonly duration;
  private readonly limitedLog: LogLimiter;

  constructor(
    private readonly ctx: SourceContext,
    private readonly concurrency: number,
    private readonly scrapeNode: ScrapeNode,
  ) {
    const t = ctx.telemetry;
    t.describe('heapstream_scrapes_total', 'Node scrapes, by result.');
    t.describe('heapstream_scrape_errors_total', 'Failed node scrapes, by node and reason.');
    t.describe('heapstream_scrape_duration_seconds', 'Time to scrape and decode one node.');
    t.describe(
      'heapstream_values_omitted_total',
      'Values a kubelet sent that their metric cannot hold (reason out_of_range), by node.',
    );
    t.describe(
      'heapstream_sets_omitted_total',
      'Metric sets left out of a node batch, by node and reason (invalid_label: a label that is not a string).',
    );
    t.describe(
      'heapstream_scrapes_empty_total',
      'Scrapes answered without a single usable value (e.g. only NaN), by node.',
    );
    this.okScrapes = t.counter('heapstream_scrapes_total', { source: ctx.id, result: 'ok' });
    this.failedScrapes = t.counter('heapstream_scrapes_total', { source: ctx.id, result: 'error' });
    this.duration = t.histogram('heapstream_scrape_duration_seconds', { source: ctx.id });
    this.limitedLog = new LogLimiter(ctx.logger, ctx.clock);
  }

  /** One cycle over `nodes`; a sharded source passes the partitions they came from, for the mark. */
  cycle(tick: Tick, nodes: readonly NodeTarget[], shard?: ShardCoverage): Observable<PipelineEvent> {
    const started = this.ctx.clock.now();
    const failures: NodeFailure[] = [];
    let answered = 0;
    let slowest: { node: string; ms: number } | undefined;
    const batches = from(nodes).pipe(
      mergeMap((node) => from(this.scrape(node, tick)), this.concurrency),
      mergeMap((outcome): Observable<PipelineEvent> => {
        if (outcome.ok) {
          answered++;
          if (slowest === undefined || outcome.ms > slowest.ms)
            slowest = { node: outcome.batch.node, ms: outcome.ms };
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
        nodes: nodes.map((node) => node.name),
        ...(shard === undefined ? {} : { shard }),
        durationMs: this.ctx.clock.now() - started,
        ...(slowest === undefined ? {} : { slowest }),
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
      const report = new DecodeReport();
      const sets = await this.scrapeNode(node, tick, this.ctx.signal, report);
      this.okScrapes.inc();
      this.recovered(node);
      this.reportOmissions(node, report, sets);
      const ms = this.ctx.clock.now() - started;
      this.duration.observe(ms / 1000);
      return {
        ok: true,
        ms,
        batch: {
          kind: 'batch',
          scope: 'node',
          node: node.name,
          cycle: tick.cycle,
          timestamp: tick.time,
          sets,
        },
      };
    } catch (err) {
      if (err instanceof ScrapeError) return this.fail(node, err.reason, err.message);
      if (err instanceof DecodeError) return this.fail(node, 'decode', `node ${node.name}: ${err.message}`);
      throw err;
    } finally {
      this.inFlight.delete(node.name);
    }
  }

  /** Counts and logs what the decoder left out, and an answer with no value at all. */
  private reportOmissions(node: NodeTarget, report: DecodeReport, sets: readonly MetricSet[]): void {
    const source = this.ctx.id;
    const name = node.name;
    if (report.valuesOmitted > 0) {
      const reason = 'out_of_range';
      this.ctx.telemetry
        .counter('heapstream_values_omitted_total', { source, node: name, reason })
        .inc(report.valuesOmitted);
      this.limitedLog.log(
        'warn',
        `${name}\u0000values:${reason}`,
        { node: name, reason, omitted: report.valuesOmitted },
        `node ${name}: ${report.valuesOmitted} value(s) out of range omitted; first: ${report.firstValue ?? ''}`,
      );
    }
    if (report.setsOmitted > 0) {
      const reason = 'invalid_label';
      this.ctx.telemetry
        .counter('heapstream_sets_omitted_total', { source, node: name, reason })
        .inc(report.setsOmitted);
      this.limitedLog.log(
        'warn',
        `${name}\u0000sets:${reason}`,
        { node: name, reason, omitted: report.setsOmitted },
        `node ${name}: ${report.setsOmitted} set(s) with a label that is not a string left out; first: ${report.firstSet ?? ''}`,
      );
    }
    let values = 0;
    for (const set of sets) {
      values += valuesInSet(set);
      if (values > 0) return;
    }
    this.ctx.telemetry.counter('heapstream_scrapes_empty_total', { source, node: name }).inc();
    this.limitedLog.log(
      'warn',
      `${name}\u0000empty`,
      { node: name, sets: sets.length, omitted: report.valuesOmitted },
      `node ${name} answered without a usable value (${sets.length} set(s), ${report.valuesOmitted} value(s) omitted)`,
    );
  }

  private recovered(node: NodeTarget): void {
    if (!this.failing.delete(node.name)) return;
    for (const reason of ['timeout', 'http_status', 'connection', 'tls', 'decode', 'too_large', 'busy']) {
      this.limitedLog.clear(`${node.name}\u0000${reason}`);
    }
    this.ctx.logger.info({ node: node.name }, `node ${node.name} answers again`);
  }

  private fail(node: NodeTarget, reason: NodeFailure['reason'], message: string): ScrapeOutcome {
    this.failedScrapes.inc();
    this.ctx.telemetry
      .counter('heapstream_scrape_errors_total', { source: this.ctx.id, node: node.name, reason })
      .inc();
    this.failing.add(node.name);
    this.limitedLog.log('warn', `${node.name}\u0000${reason}`, { node: node.name, reason }, message);
    return { ok: false, failure: { node: node.name, reason, message } };
  }
}

/** Parses a kubelet response body, turning a syntax error (e.g. a truncated body) into a DecodeError. */
export function parseJsonBody(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new DecodeError(
      `${what}: response is not valid JSON (${(err as Error).message}; ${text.length} bytes)`,
      {
        cause: err,
      },
    );
  }
}
