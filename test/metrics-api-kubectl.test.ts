import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeSummary } from '../sources/kubelet-summary/decode.js';
import { metricsApiSinkConfig } from '../sinks/metrics-api/config.js';
import { createMetricsApiSink, type MetricsApiSink } from '../sinks/metrics-api/metrics-api-sink.js';
import { createDelegatedGuard } from '../src/kube/delegated-auth/delegated-guard.js';
import { testContext } from '../src/testing/context.js';
import { ensureDebianPackage } from './services/apt.js';

// The real kubectl reads the sink directly (authentication: none on loopback): `kubectl top pod` parses our
// discovery and PodMetricsList and prints the same numbers the kubelet payloads give. (`kubectl top node` also
// lists /api/v1/nodes, which only an API server answers: the end-to-end test through the aggregation layer has it.)

const run = promisify(execFile);

const FIXTURES = new URL('../../shared/fixtures/kubelet/otel-minikube/', import.meta.url);
interface Stats {
  time: string;
  usageCoreNanoSeconds: number;
  workingSetBytes: number;
}
interface Summary {
  pods: {
    podRef: { name: string; namespace: string };
    containers: { name: string; cpu: Stats; memory: Stats }[];
  }[];
}
const load = (name: string) => JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as Summary;
const FIRST = load('stats-summary.json');
const SECOND = load('stats-summary-second-scrape.json');

describe('kubectl against the metrics_api sink', () => {
  let sink: MetricsApiSink;
  let dir: string;
  let kubectl: string;
  beforeAll(async () => {
    // A real kubectl, installed from Debian's package when absent.
    kubectl = await ensureDebianPackage('kubectl', 'kubectl');
    sink = createMetricsApiSink(
      metricsApiSinkConfig.parse({ listen: '127.0.0.1:0', authentication: 'none' }),
      testContext(),
      { createGuard: createDelegatedGuard }, // not asked: authentication none
    );
    await sink.connect?.();
    const now = Date.now();
    for (const [cycle, summary] of [FIRST, SECOND].entries()) {
      const sets = decodeSummary(structuredClone(summary), { name: 'minikube' });
      await sink.write({ kind: 'batch', scope: 'node', node: 'minikube', cycle, timestamp: now, sets });
    }
    await sink.cycleEnd?.({
      kind: 'cycle_end',
      cycle: 1,
      timestamp: now,
      nodesExpected: 1,
      nodesAnswered: 1,
      failures: [],
      durationMs: 1,
    });
    dir = mkdtempSync(join(tmpdir(), 'heapstream-kubectl-'));
    const { host, port } = sink.address() as { host: string; port: number };
    writeFileSync(
      join(dir, 'kubeconfig'),
      [
        'apiVersion: v1',
        'kind: Config',
        `clusters: [{ name: c, cluster: { server: "https://${host}:${port}", insecure-skip-tls-verify: true } }]`,
        // A token, unused here: without credentials kubectl may prompt for a password on its standard input.
        'users: [{ name: u, user: { token: unused } }]',
        'contexts: [{ name: c, context: { cluster: c, user: u } }]',
        'current-context: c',
        '',
      ].join('\n'),
    );
  });
  afterAll(async () => {
    await sink.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const kubectlRun = async (args: string[]) =>
    (
      await run(
        kubectl,
        ['--kubeconfig', join(dir, 'kubeconfig'), '--cache-dir', join(dir, 'cache'), ...args],
        {
          timeout: 20_000,
        },
      )
    ).stdout;

  it('prints every container with the CPU and memory of the kubelet payloads', async () => {
    const out = await kubectlRun(['top', 'pod', '-A', '--containers', '--no-headers']);
    const rows = out
      .trim()
      .split('\n')
      .map((line) => line.trim().split(/\s+/));
    // kubectl prints cpu as Quantity.MilliValue() (rounded up) and memory as whole MiB (pkg/cmd/top/top_pod.go).
    const expected = SECOND.pods.flatMap((pod) =>
      pod.containers.map((c) => {
        const before = FIRST.pods
          .find((p) => p.podRef.name === pod.podRef.name)!
          .containers.find((b) => b.name === c.name)!;
        const seconds = (Date.parse(c.cpu.time) - Date.parse(before.cpu.time)) / 1000;
        const nanocores = Math.trunc(
          (c.cpu.usageCoreNanoSeconds - before.cpu.usageCoreNanoSeconds) / seconds,
        );
        return [
          pod.podRef.namespace,
          pod.podRef.name,
          c.name,
          `${Math.ceil(nanocores / 1e6)}m`,
          `${Math.floor(c.memory.workingSetBytes / 2 ** 20)}Mi`,
        ];
      }),
    );
    expect(rows.sort()).toEqual(expected.sort());
  });

  it('gets the raw objects through kubectl get --raw', async () => {
    const raw = JSON.parse(
      await kubectlRun(['get', '--raw', '/apis/metrics.k8s.io/v1beta1/nodes/minikube']),
    ) as {
      kind: string;
    };
    expect(raw.kind).toBe('NodeMetrics');
  });
});
