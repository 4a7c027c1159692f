import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../src/component/errors.js';
import { DecodeReport } from '../../src/model/decode-report.js';
import { metricByName } from '../../src/model/catalogue.js';
import type { MetricSet } from '../../src/model/types.js';
import { decodeContainerInfos } from './decode.js';
import { podUidOfCgroup } from '../../src/kube/payload/cgroup.js';

/** The kubelet's uint64 "unknown" sentinel, as JSON.parse reads it (2^64). */
const UINT64_MAX = JSON.parse('18446744073709551615') as number;
const FIXTURES = new URL('../../../shared/fixtures/cadvisor/', import.meta.url);
const GOLDEN = new URL(
  '../../../shared/reference/heapster-golden/legacy-seed-stats-container/points.jsonl',
  import.meta.url,
);

function fixture(name: string): unknown {
  return JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8'));
}

interface GoldenPoint {
  measurement: string;
  tags: Record<string, string>;
  value: number;
  int: boolean;
}

/** The value of `name` in a set: plain, or labeled by resource_id. */
function valueOf(set: MetricSet, name: string, resourceId?: string): number | undefined {
  if (resourceId === undefined) return set.values.get(name);
  return set.labeled.find((v) => v.name === name && v.labels['resource_id'] === resourceId)?.value;
}

describe('kubelet POST /stats/container/ (seed-stats-container.json)', () => {
  const sets = decodeContainerInfos(fixture('seed-stats-container.json'), { name: 'seed-node' });
  const node = sets[0]!;

  it('makes one node set from the root container, from its last sample', () => {
    expect(sets).toHaveLength(1);
    expect(node.type).toBe('node');
    expect(node.key).toBe('node:seed-node');
    expect(node.labels).toEqual({ nodename: 'seed-node', hostname: 'seed-node', type: 'node' });
    // Last sample: 2017-11-10T14:29:36.487311961+08:00; creation 2017-10-14T17:16:59.086488213+08:00.
    expect(node.scrapeTime).toBeCloseTo(Date.UTC(2017, 10, 10, 6, 29, 36, 487) + 0.311961, 6);
    expect(node.startTime).toBeCloseTo(Date.UTC(2017, 9, 14, 9, 16, 59, 86) + 0.488213, 6);
    expect(node.values.get('uptime')).toBe(Math.trunc(node.scrapeTime - node.startTime));
    expect(node.values.get('memory/usage')).toBe(12189343744);
    expect(node.values.get('memory/cache')).toBe(288108544);
    expect(node.values.get('cpu/load')).toBe(0);
  });

  it('sums network interfaces as Heapster did (cbr0 + ens3)', () => {
    expect(node.values.get('network/rx')).toBe(1885783888 + 25108971486);
    expect(node.values.get('network/tx')).toBe(1854698778 + 93160391886);
  });

  it('agrees with Heapster on every metric both produce', () => {
    const points = readFileSync(GOLDEN, 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as GoldenPoint);
    let compared = 0;
    const missing: string[] = [];
    for (const point of points) {
      // uptime depends on Heapster's wall clock (2026); node_* come from the node autoscaling enricher.
      if (point.measurement === 'uptime' || point.measurement.includes('/node_')) continue;
      const value = valueOf(node, point.measurement, point.tags['resource_id']);
      if (value === undefined) {
        missing.push(`${point.measurement} ${point.tags['resource_id'] ?? ''}`);
        continue;
      }
      expect(value, `${point.measurement} ${point.tags['resource_id'] ?? ''}`).toBe(point.value);
      expect(metricByName(point.measurement)?.valueType).toBe(point.int ? 'int' : 'float');
      compared++;
    }
    expect(missing).toEqual([]);
    expect(compared).toBe(86);
    // Nothing extra either: every labeled value we make is in the golden output.
    expect(node.labeled).toHaveLength(27 * 2 + 4 * 5);
  });
});

describe('single ContainerInfo (splunk-eks-root-container.json, 12 samples)', () => {
  const payload = fixture('splunk-eks-root-container.json');

  it('uses the newest sample and device names as resource_id', () => {
    const sets = decodeContainerInfos(payload, { name: 'eks', hostId: 'i-1' });
    expect(sets).toHaveLength(1);
    const node = sets[0]!;
    expect(node.labels['host_id']).toBe('i-1');
    const stats = (
      payload as {
        stats: Array<{
          timestamp: string;
          cpu: { usage: { total: number } };
          diskio: { io_service_bytes: Array<{ device: string; stats: { Read: number } }> };
        }>;
      }
    ).stats;
    const last = stats[stats.length - 1]!;
    expect(node.values.get('cpu/usage')).toBe(last.cpu.usage.total);
    expect(Math.floor(node.scrapeTime)).toBe(Date.parse(last.timestamp));
    const reads = node.labeled.filter((v) => v.name === 'disk/io_read_bytes');
    expect(reads.map((v) => [v.labels['resource_id'], v.value])).toEqual(
      last.diskio.io_service_bytes.map((d) => [d.device, d.stats.Read]),
    );
    expect(reads.length).toBeGreaterThan(0);
  });

  it('with samples: all, makes one set per sample in time order', () => {
    const sets = decodeContainerInfos(payload, { name: 'eks' }, 'all');
    expect(sets).toHaveLength(12);
    for (let i = 1; i < sets.length; i++) {
      expect(sets[i]!.scrapeTime).toBeGreaterThan(sets[i - 1]!.scrapeTime);
      expect(sets[i]!.values.get('cpu/usage')).toBeGreaterThanOrEqual(sets[i - 1]!.values.get('cpu/usage')!);
    }
  });
});

/** A hand-made /api/v1.3/subcontainers answer: node, pod cgroup, sandbox, a container, a system container. */
const SUBCONTAINERS = `[
  {"name":"/","spec":{"creation_time":"2024-01-01T00:00:00Z","has_cpu":true,"has_memory":true,"has_network":true,
    "memory":{"limit":8000000000}},
   "stats":[{"timestamp":"2024-01-01T01:00:00Z","cpu":{"usage":{"total":5000}},"memory":{"usage":100}}]},
  {"name":"/kubepods/burstable/pod11111111-2222-3333-4444-555555555555",
   "spec":{"creation_time":"2024-01-01T00:10:00Z","has_cpu":true,"has_memory":true,"has_network":false,
     "memory":{"limit":18446744073709551615}},
   "stats":[{"timestamp":"2024-01-01T01:00:01Z","cpu":{"usage":{"total":900}},"memory":{"usage":50,"working_set":40}}]},
  {"name":"/kubepods/burstable/pod11111111-2222-3333-4444-555555555555/aaa",
   "spec":{"creation_time":"2024-01-01T00:10:00Z","has_cpu":true,"has_network":true,"image":"pause:3.9",
     "labels":{"io.kubernetes.pod.name":"web-1","io.kubernetes.pod.namespace":"shop",
       "io.kubernetes.pod.uid":"11111111-2222-3333-4444-555555555555","io.kubernetes.container.name":"POD"}},
   "stats":[{"timestamp":"2024-01-01T01:00:02Z","cpu":{"usage":{"total":1}},
     "network":{"interfaces":[{"name":"eth0","rx_bytes":10,"tx_bytes":20,"rx_errors":1,"tx_errors":2},
                              {"name":"eth1","rx_bytes":5,"tx_bytes":5,"rx_errors":0,"tx_errors":0}]}}]},
  {"name":"/kubepods/burstable/pod11111111-2222-3333-4444-555555555555/bbb","aliases":["k8s_app_web-1"],
   "spec":{"creation_time":"2024-01-01T00:11:00Z","image":"shop/web:1","has_memory":true,
     "memory":{"limit":268435456},
     "labels":{"io.kubernetes.pod.name":"web-1","io.kubernetes.pod.namespace":"shop",
       "io.kubernetes.pod.uid":"11111111-2222-3333-4444-555555555555","io.kubernetes.container.name":"app"}},
   "stats":[{"timestamp":"2024-01-01T01:00:03Z","cpu":{"usage":{"total":800}},"memory":{"usage":30,"working_set":25,
     "container_data":{"pgfault":7,"pgmajfault":1}}}]},
  {"name":"/system.slice/docker.service","aliases":["/docker-daemon"],
   "spec":{"creation_time":"2024-01-01T00:00:05Z"},
   "stats":[{"timestamp":"2024-01-01T01:00:04Z","cpu":{"usage":{"total":300}}}]},
  {"name":"/no-stats","spec":{},"stats":[]}
]`;

describe('Kubernetes mapping (hand-made subcontainers array)', () => {
  const sets = decodeContainerInfos(JSON.parse(SUBCONTAINERS), { name: 'n1' });
  const byKey = new Map(sets.map((s) => [s.key, s]));

  it('maps the root, the pod cgroup, the container and the system container', () => {
    expect([...byKey.keys()].sort()).toEqual([
      'namespace:shop/pod:web-1',
      'namespace:shop/pod:web-1/container:app',
      'node:n1',
      'node:n1/container:docker-daemon',
    ]);
  });

  it('takes the pod from its cgroup, and its network from the POD container', () => {
    const pod = byKey.get('namespace:shop/pod:web-1')!;
    expect(pod.type).toBe('pod');
    expect(pod.labels).toMatchObject({ pod_id: '11111111-2222-3333-4444-555555555555', pod_name: 'web-1' });
    expect(pod.values.get('cpu/usage')).toBe(900);
    expect(pod.values.get('memory/working_set')).toBe(40);
    expect(pod.values.get('network/rx')).toBe(15);
    expect(pod.values.get('network/tx_errors')).toBe(2);
    expect(pod.values.get('uptime')).toBe(50 * 60_000 + 1000);
    // An unlimited cgroup limit (2^64 − 1, rounded by JSON.parse) is never a number of bytes.
    expect(pod.values.get('memory/limit')).toBeUndefined();
  });

  it('labels the container by its Kubernetes name and image; keeps a real limit', () => {
    const app = byKey.get('namespace:shop/pod:web-1/container:app')!;
    expect(app.type).toBe('pod_container');
    expect(app.labels).toMatchObject({
      container_name: 'app',
      container_base_image: 'shop/web:1',
      namespace_name: 'shop',
    });
    expect(app.values).toMatchObject({
      'cpu/usage': 800,
      'memory/page_faults': 7,
      'memory/major_page_faults': 1,
    });
    expect(app.values.get('memory/limit')).toBe(268435456);
  });

  it('names a system container by its first alias without the leading slash', () => {
    const docker = byKey.get('node:n1/container:docker-daemon')!;
    expect(docker.labels['container_name']).toBe('docker-daemon');
    expect(docker.values.get('cpu/usage')).toBe(300);
  });

  it("with system_containers: summary, keeps only the kubelet's cgroups under the Summary API names", () => {
    const payload = JSON.parse(SUBCONTAINERS) as unknown[];
    payload.push(
      {
        name: '/kubepods',
        spec: {},
        stats: [{ timestamp: '2024-01-01T01:00:00Z', cpu: { usage: { total: 1 } } }],
      },
      { name: '/kubepods/burstable', spec: {}, stats: [{ timestamp: '2024-01-01T01:00:00Z' }] },
      { name: '/system.slice/kubelet.service', spec: {}, stats: [{ timestamp: '2024-01-01T01:00:00Z' }] },
    );
    const keys = (naming: 'summary' | 'none' | 'cgroup') =>
      decodeContainerInfos(payload, { name: 'n1' }, 'last', naming)
        .filter((s) => s.type === 'sys_container')
        .map((s) => s.key)
        .sort();
    expect(keys('summary')).toEqual([
      'node:n1/container:docker-daemon',
      'node:n1/container:kubelet',
      'node:n1/container:pods',
    ]);
    expect(keys('none')).toEqual([]);
    expect(keys('cgroup')).toEqual([
      'node:n1/container:docker-daemon',
      'node:n1/container:kubepods',
      'node:n1/container:kubepods/burstable',
      'node:n1/container:system.slice/kubelet.service',
    ]);
  });

  it('uses the POD container as the pod when there is no pod cgroup (Heapster)', () => {
    const payload = (JSON.parse(SUBCONTAINERS) as Array<{ name: string }>).filter(
      (c) => c.name !== '/kubepods/burstable/pod11111111-2222-3333-4444-555555555555',
    );
    const pod = decodeContainerInfos(payload, { name: 'n1' }).find((s) => s.type === 'pod')!;
    expect(pod.values.get('cpu/usage')).toBe(1);
    expect(pod.values.get('network/rx')).toBe(15);
  });
});

describe('values a metric cannot hold', () => {
  const root = (stat: object, spec: object = {}): unknown => ({
    '/': { name: '/', spec, stats: [{ timestamp: '2024-01-01T00:00:00Z', ...stat }] },
  });

  it('omits a negative or too large value and reports its JSON path', () => {
    const report = new DecodeReport();
    const [node] = decodeContainerInfos(
      root({
        memory: { usage: -1, rss: 2 ** 64, cache: 3 },
        cpu: { usage: { total: 5 }, load_average: Infinity },
      }),
      { name: 'n' },
      'last',
      'cgroup',
      { report },
    );
    expect(node?.values).toEqual({ 'cpu/usage': 5, 'memory/cache': 3 });
    expect(report.valuesOmitted).toBe(3);
    expect(report.firstValue).toMatch(/^\["\/"\]\.stats\[0\]\.cpu\.load_average: Infinity is not/);
  });

  it('leaves a network total out when one interface is out of range, or when the sum is', () => {
    const report = new DecodeReport();
    const interfaces = [
      { rx_bytes: 1, tx_bytes: 2 ** 62, rx_errors: UINT64_MAX, tx_errors: 0 },
      { rx_bytes: 2, tx_bytes: 2 ** 62, rx_errors: 1, tx_errors: 0 },
    ];
    const [node] = decodeContainerInfos(root({ network: { interfaces } }), { name: 'n' }, 'last', 'cgroup', {
      report,
    });
    expect(node?.values).toEqual({ 'network/rx': 3, 'network/tx_errors': 0 });
    expect(report.valuesOmitted).toBe(2);
    expect(report.firstValue).toMatch(/^\["\/"\]\.stats\[0\]\.network\.interfaces\[0\]\.rx_errors: /);
  });

  it('reads a limit ≥ 2^62 as unlimited without reporting it; a negative limit is reported', () => {
    const container = (limit: number): unknown => ({
      '/c': {
        name: '/c',
        spec: {
          memory: { limit },
          labels: {
            'io.kubernetes.pod.namespace': 'ns',
            'io.kubernetes.pod.name': 'p',
            'io.kubernetes.container.name': 'c',
          },
        },
        stats: [{ timestamp: '2024-01-01T00:00:00Z', cpu: { usage: { total: 1 } } }],
      },
    });
    for (const [limit, kept, omitted] of [
      [UINT64_MAX, undefined, 0],
      [9223372036854771712, undefined, 0],
      [-4096, undefined, 1],
      [4096, 4096, 0],
    ] as const) {
      const report = new DecodeReport();
      const sets = decodeContainerInfos(container(limit), { name: 'n' }, 'last', 'cgroup', { report });
      const set = sets.find((s) => s.type === 'pod_container');
      expect(set?.values.get('memory/limit')).toBe(kept);
      expect(report.valuesOmitted).toBe(omitted);
    }
  });
});

describe('errors and helpers', () => {
  it('names the JSON path of a bad value', () => {
    const bad = {
      '/': { name: '/', stats: [{ timestamp: '2024-01-01T00:00:00Z', memory: { usage: '1' } }] },
    };
    expect(() => decodeContainerInfos(bad, { name: 'n' })).toThrow(DecodeError);
    expect(() => decodeContainerInfos(bad, { name: 'n' })).toThrow('["/"].stats[0].memory.usage');
    expect(() => decodeContainerInfos('x', { name: 'n' })).toThrow(DecodeError);
  });

  it('reads pod uids from cgroupfs and systemd cgroup names only', () => {
    expect(podUidOfCgroup('/kubepods/besteffort/pod18fd9786-3677')).toBe('18fd9786-3677');
    expect(podUidOfCgroup('/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1a_2b.slice')).toBe(
      '1a-2b',
    );
    expect(podUidOfCgroup('/kubepods/burstable')).toBeUndefined();
    expect(podUidOfCgroup('/system.slice/podman.service')).toBeUndefined();
  });
});
