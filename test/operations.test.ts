import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePipelineConfig } from '../src/config/index.js';
import { createBuiltinRegistry } from '../src/builtins.js';
import { systemClock } from '../src/component/clock.js';
import { defineSink } from '../src/component/component.js';
import { HealthChecker } from '../src/engine/health.js';
import { silentLogger } from '../src/component/logger.js';
import { startOpsServer, type OpsServer } from '../src/engine/ops-server.js';
import { createPipeline } from '../src/engine/pipeline.js';
import { PrometheusExporter } from '../src/engine/prometheus.js';
import { RetryableError } from '../src/component/errors.js';
import { startSimulatedCluster, type SimulatedCluster } from '../src/sim/index.js';
import { collectingSink } from '../src/testing/collecting-sink.js';

// Operating heapstream: during a simulated run with one failing kubelet and one failing sink, /metrics counts
// the failures under the right labels and /readyz says why it is not ready, then recovers with the sink.
describe('self-metrics and readiness during a simulated run', () => {
  let cluster: SimulatedCluster;
  let ops: OpsServer | undefined;

  beforeAll(async () => {
    cluster = await startSimulatedCluster({ nodes: 3, podsPerNode: 4, port: 0, firstAddress: '127.0.3.1' });
  });
  afterAll(async () => {
    await ops?.close();
    await cluster.stop();
  });

  it('counts a failing kubelet and a failing sink, and /readyz follows the sink', async () => {
    let sinkDown = true;
    const flaky = defineSink({
      type: 'flaky',
      description: 'fails while the test says it is down',
      config: z.strictObject({}),
      create: () => ({
        write: () =>
          sinkDown ? Promise.reject(new RetryableError('connection refused')) : Promise.resolve(),
        close: () => Promise.resolve(),
      }),
    });
    const registry = createBuiltinRegistry().register(flaky, collectingSink().definition);
    const nodes = cluster.nodes.map(
      (n) => `      - { name: ${n.name}, address: ${n.address}, port: ${n.port} }`,
    );
    const yaml = [
      'resolution: 1s',
      'source:',
      '  type: kubelet_summary',
      '  scheme: http',
      '  timeout: 800ms',
      '  discovery:',
      '    static:',
      ...nodes,
      'sinks:',
      '  flaky:',
      '    type: flaky',
      '    retry: { initial_backoff: 50ms, max_backoff: 200ms }',
      '    shutdown_timeout: 2s',
      '  healthy:',
      '    type: collect',
      '    select: { types: [node] }',
    ].join('\n');
    const config = parsePipelineConfig(yaml, 'ops.yaml', registry, {});
    const clock = systemClock();
    const pipeline = createPipeline(config, { registry, logger: silentLogger(), clock });
    const health = new HealthChecker(pipeline.telemetry, clock, () => pipeline.sinkNames, {
      maxCycleAgeMs: 3000,
      minNodeShare: 0.5,
      sinkWindowMs: 1500,
      maxLoopStallMs: 10_000,
    });
    ops = await startOpsServer({
      address: '127.0.0.1',
      port: 0,
      exporter: new PrometheusExporter(pipeline.telemetry),
      health,
    });
    const failing = cluster.nodes[1]!.name;
    cluster.setFault(failing, { kind: 'status', status: 503 });
    const run = pipeline.run();
    const ready = async () => {
      const res = await fetch(`${ops!.url}/readyz`);
      return {
        status: res.status,
        body: (await res.json()) as { checks: Record<string, { ok: boolean; detail: string }> },
      };
    };
    try {
      await new Promise((r) => setTimeout(r, 2500));
      const metrics = await (await fetch(`${ops.url}/metrics`)).text();
      expect(metrics).toMatch(
        new RegExp(
          `heapstream_scrape_errors_total\\{node="${failing}",reason="http_status",source="kubelet_summary"\\} [1-9]`,
        ),
      );
      expect(metrics).toMatch(/heapstream_sink_retries_total\{sink="flaky"\} [1-9]/);
      expect(metrics).toMatch(/heapstream_sink_batches_sent_total\{sink="healthy"\} [1-9]/);
      expect(metrics).toMatch(/heapstream_cycle_nodes_answered 2\n/);
      expect(metrics).toMatch(/heapstream_sets_emitted_total\{type="pod"\} [1-9]/);

      let r = await ready();
      expect(r.status).toBe(503);
      expect(r.body.checks.sink_flaky).toEqual({ ok: false, detail: 'has not delivered yet' });
      expect(r.body.checks.nodes_answering).toEqual({
        ok: true,
        detail: '2/3 nodes answered the last cycle (need 50%)',
      });

      sinkDown = false;
      await new Promise((r) => setTimeout(r, 1500));
      r = await ready();
      expect(r.body.checks.sink_flaky?.ok).toBe(true);
      expect(r.status).toBe(200);
    } finally {
      pipeline.stop();
      await run;
      cluster.setFault(failing, undefined);
    }
  });
});
