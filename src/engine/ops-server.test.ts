import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '../component/clock.js';
import { HealthChecker } from './health.js';
import { startOpsServer, type OpsServer } from './ops-server.js';
import { PrometheusExporter, renderTelemetry } from './prometheus.js';
import { Telemetry } from '../component/telemetry.js';
import { asyncScheduler } from 'rxjs';

function fakeClock(start: number): Clock & { set(t: number): void } {
  let now = start;
  return { now: () => now, scheduler: asyncScheduler, set: (t) => (now = t) };
}

const options = { maxCycleAgeMs: 45_000, minNodeShare: 0.5, sinkWindowMs: 60_000, maxLoopStallMs: 10_000 };

describe('self-metrics and health', () => {
  let server: OpsServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('renders counters, gauges and histograms in the Prometheus text format', () => {
    const t = new Telemetry();
    t.describe('heapstream_scrape_errors_total', 'Failed node scrapes.');
    t.counter('heapstream_scrape_errors_total', { node: 'n"1', reason: 'timeout' }).inc(2);
    t.gauge('heapstream_sink_queue_batches', { sink: 'kafka' }).set(7);
    const h = t.histogram('heapstream_scrape_duration_seconds', {}, [0.1, 1]);
    h.observe(0.05);
    h.observe(0.5);
    const text = renderTelemetry(t);
    expect(text).toContain('# HELP heapstream_scrape_errors_total Failed node scrapes.\n');
    expect(text).toContain('# TYPE heapstream_scrape_errors_total counter\n');
    expect(text).toContain('heapstream_scrape_errors_total{node="n\\"1",reason="timeout"} 2\n');
    expect(text).toContain('heapstream_sink_queue_batches{sink="kafka"} 7\n');
    expect(text).toContain('heapstream_scrape_duration_seconds_bucket{le="0.1"} 1\n');
    expect(text).toContain('heapstream_scrape_duration_seconds_bucket{le="1"} 2\n');
    expect(text).toContain('heapstream_scrape_duration_seconds_bucket{le="+Inf"} 2\n');
    expect(text).toContain('heapstream_scrape_duration_seconds_count 2\n');
  });

  it('/readyz says why it is not ready, and turns ready once cycles and sinks are healthy', async () => {
    const t = new Telemetry();
    const clock = fakeClock(1_000_000);
    const health = new HealthChecker(t, clock, () => ['lake'], options);
    server = await startOpsServer({
      address: '127.0.0.1',
      port: 0,
      exporter: new PrometheusExporter(t),
      health,
    });

    let res = await fetch(`${server.url}/readyz`);
    expect(res.status).toBe(503);
    let body = (await res.json()) as { checks: Record<string, { ok: boolean; detail: string }> };
    expect(body.checks.recent_cycle).toEqual({ ok: false, detail: 'no cycle has finished yet' });

    t.gauge('heapstream_last_cycle_end_timestamp_seconds').set(995);
    t.gauge('heapstream_cycle_nodes_expected').set(10);
    t.gauge('heapstream_cycle_nodes_answered').set(2);
    res = await fetch(`${server.url}/readyz`);
    body = (await res.json()) as typeof body;
    expect(res.status).toBe(503);
    expect(body.checks.nodes_answering?.detail).toBe('2/10 nodes answered the last cycle (need 50%)');

    t.gauge('heapstream_cycle_nodes_answered').set(9);
    t.gauge('heapstream_sink_last_success_timestamp_seconds', { sink: 'lake' }).set(990);
    res = await fetch(`${server.url}/readyz`);
    expect(res.status).toBe(200);

    // The sink stops delivering while batches pile up: not ready, and the body names the sink.
    t.gauge('heapstream_sink_queue_batches', { sink: 'lake' }).set(12);
    clock.set(1_100_000);
    t.gauge('heapstream_last_cycle_end_timestamp_seconds').set(1095);
    res = await fetch(`${server.url}/readyz`);
    body = (await res.json()) as typeof body;
    expect(res.status).toBe(503);
    expect(body.checks.sink_lake).toEqual({
      ok: false,
      detail: 'last delivery 110000 ms ago, 12 batches queued',
    });

    // A disk buffer above 90 % of its max_size: not ready either, and the body says how full.
    t.gauge('heapstream_sink_queue_batches', { sink: 'lake' }).set(0);
    t.gauge('heapstream_buffer_max_bytes', { sink: 'lake' }).set(1000);
    t.gauge('heapstream_buffer_bytes', { sink: 'lake' }).set(900);
    res = await fetch(`${server.url}/readyz`);
    expect(res.status).toBe(200);
    t.gauge('heapstream_buffer_bytes', { sink: 'lake' }).set(950);
    res = await fetch(`${server.url}/readyz`);
    body = (await res.json()) as typeof body;
    expect(res.status).toBe(503);
    expect(body.checks.buffer_lake).toEqual({
      ok: false,
      detail: 'disk buffer 95% full (not ready above 90%)',
    });
  });

  it('/livez fails when the event loop stops beating, /metrics includes process metrics', async () => {
    const t = new Telemetry();
    const clock = fakeClock(0);
    const health = new HealthChecker(t, clock, () => [], options);
    server = await startOpsServer({
      address: '127.0.0.1',
      port: 0,
      exporter: new PrometheusExporter(t),
      health,
    });
    expect((await fetch(`${server.url}/livez`)).status).toBe(200);
    clock.set(20_000);
    expect((await fetch(`${server.url}/livez`)).status).toBe(503);
    health.beat();
    expect((await fetch(`${server.url}/livez`)).status).toBe(200);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toContain('heapstream_process_resident_memory_bytes');
    expect((await fetch(`${server.url}/nope`)).status).toBe(404);
  });
});
