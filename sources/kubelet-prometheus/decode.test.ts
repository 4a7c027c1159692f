import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DecodeError, ScrapeError } from '../../src/component/errors.js';
import { DecodeReport, type DecodeOptions } from '../../src/model/decode-report.js';
import type { MetricSet } from '../../src/model/types.js';
import { decodePrometheusMetrics } from './decode.js';

const PROM = new URL('../../../shared/fixtures/prometheus/', import.meta.url);
const CADVISOR_TEXT = readFileSync(new URL('nri-1.27-metrics-cadvisor.prom', PROM), 'utf8');
const RESOURCE_TEXT = readFileSync(new URL('metrics-server-metrics-resource.prom', PROM), 'utf8');

function byKey(sets: readonly MetricSet[]): Map<string, MetricSet> {
  return new Map(sets.map((s) => [s.key, s]));
}

/** Sum of the fixture's values of `metric` on lines containing every one of `parts` (checked independently). */
function sumLines(text: string, metric: string, ...parts: string[]): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(metric + '{') || !parts.every((p) => line.includes(p))) continue;
    sum += Number(
      line
        .slice(line.lastIndexOf('}') + 1)
        .trim()
        .split(' ')[0],
    );
  }
  return sum;
}

const labeledValue = (set: MetricSet | undefined, name: string, id: string) =>
  set?.labeled.find((v) => v.name === name && v.labels['resource_id'] === id)?.value;

describe('/metrics/cadvisor (nri-1.27)', () => {
  const sets = decodePrometheusMetrics(CADVISOR_TEXT, { name: 'datagen-1-27' }, 0);
  const sets2 = byKey(sets);
  const node = sets2.get('node:datagen-1-27');
  const scraperPod = sets2.get('namespace:scraper/pod:e2e-scraper-694b5768ff-hjsbr');

  it('makes the node from id="/", in ns, with its timestamps and start time', () => {
    expect(node?.values).toMatchObject({
      'cpu/usage': 80_863_332_000,
      'memory/working_set': 813_281_280,
      'network/rx': sumLines(CADVISOR_TEXT, 'container_network_receive_bytes_total', 'id="/",'),
    });
    expect(node?.scrapeTime).toBe(1694017530589);
    expect(node?.startTime).toBe(1694017406000);
    expect(node?.values.get('uptime')).toBe(1694017530589 - 1694017406000);
    expect(labeledValue(node, 'filesystem/usage', '/dev/vda1')).toBe(8_993_058_816);
  });

  it('keeps only the Summary API system containers by default, every cgroup with system_containers: cgroup', () => {
    expect(
      sets
        .filter((s) => s.type === 'sys_container')
        .map((s) => s.key)
        .sort(),
    ).toEqual(['node:datagen-1-27/container:kubelet', 'node:datagen-1-27/container:pods']);
    expect(sets2.get('node:datagen-1-27/container:pods')?.values.get('cpu/usage')).toBe(31_475_231_000);
    const all = decodePrometheusMetrics(CADVISOR_TEXT, { name: 'n' }, 0, 'metrics', 'cgroup');
    expect(
      all
        .filter((s) => s.type === 'sys_container')
        .map((s) => s.labels['container_name'])
        .sort(),
    ).toEqual(['kubepods', 'kubepods/besteffort', 'kubepods/burstable', 'system.slice/kubelet.service']);
  });

  it('takes a pod from its cgroup, its network from the sandbox, its uid from the cgroup name', () => {
    expect(scraperPod?.labels).toMatchObject({
      type: 'pod',
      pod_id: '18fd9786-3677-45c4-9def-060a4b25f1db',
      pod_name: 'e2e-scraper-694b5768ff-hjsbr',
      namespace_name: 'scraper',
    });
    expect(scraperPod?.values.get('cpu/usage')).toBe(452_477_000);
    expect(scraperPod?.scrapeTime).toBe(1694017534940);
    expect(scraperPod?.values.get('network/rx')).toBe(
      sumLines(CADVISOR_TEXT, 'container_network_receive_bytes_total', 'pod="e2e-scraper-694b5768ff-hjsbr"'),
    );
    expect(scraperPod?.values.get('network/rx')).toBeGreaterThan(0);
    expect(labeledValue(scraperPod, 'disk/io_write_bytes', '/dev/vda')).toBe(11_440_128);
  });

  it('makes pod containers with image, page faults of scope container, and real limits only', () => {
    const coredns = sets2.get('namespace:kube-system/pod:coredns-5d78c9869d-nnnh7/container:coredns');
    expect(coredns?.labels).toMatchObject({
      container_name: 'coredns',
      container_base_image: 'registry.k8s.io/coredns/coredns:v1.10.1',
    });
    expect(coredns?.values.get('memory/limit')).toBe(170 * 1024 * 1024);
    expect(coredns?.values.get('cpu/usage')).toBe(396_430_000);
    expect(coredns?.values.get('memory/page_faults')).toBe(
      sumLines(
        CADVISOR_TEXT,
        'container_memory_failures_total',
        'container="coredns"',
        'failure_type="pgfault"',
        'scope="container"',
      ),
    );
    // No sandbox (pause) container becomes a set of its own.
    expect(sets.some((s) => s.labels['container_name'] === '' || s.labels['container_name'] === 'POD')).toBe(
      false,
    );
    expect(sets.filter((s) => s.type === 'pod')).toHaveLength(19);
    expect(sets.filter((s) => s.type === 'pod_container')).toHaveLength(17);
  });
});

describe('/metrics/resource (metrics-server kind cluster)', () => {
  const sets = decodePrometheusMetrics(RESOURCE_TEXT, { name: 'e2e-control-plane' }, 0);
  const sets2 = byKey(sets);

  it('maps node_*, pod_* and container_* to node, pod and pod_container sets', () => {
    expect(sets.filter((s) => s.type === 'node')).toHaveLength(1);
    expect(sets.filter((s) => s.type === 'pod')).toHaveLength(70);
    expect(sets.filter((s) => s.type === 'pod_container')).toHaveLength(70);
    const node = sets2.get('node:e2e-control-plane');
    expect(node?.values).toEqual({ 'cpu/usage': 357_354_910_000, 'memory/working_set': 1_616_273_408 });
    expect(node?.scrapeTime).toBe(1633253809720);
  });

  it('converts core-seconds to ns and keeps each sample timestamp', () => {
    const coredns = sets2.get('namespace:kube-system/pod:coredns-558bd4d5db-4dpjz/container:coredns');
    expect(coredns?.values.get('cpu/usage')).toBe(4_710_169_000);
    expect(coredns?.scrapeTime).toBe(1633253812125);
    expect(coredns?.startTime).toBe(0);
    const pod = sets2.get('namespace:kube-system/pod:coredns-558bd4d5db-4dpjz');
    expect(pod?.labels).toMatchObject({ type: 'pod', pod_name: 'coredns-558bd4d5db-4dpjz' });
    expect(pod?.values.get('memory/working_set')).toBeGreaterThan(0);
  });
});

describe('edge cases', () => {
  it('uses the response time without timestamps, skips NaN/Inf and per-cpu series, reads old label names', () => {
    const text = [
      'container_cpu_usage_seconds_total{id="/",cpu="total"} 2',
      'container_cpu_usage_seconds_total{id="/",cpu="cpu01"} 1',
      'container_memory_usage_bytes{id="/"} NaN',
      'container_memory_rss{id="/"} +Inf',
      'container_cpu_usage_seconds_total{namespace="ns",pod_name="p",container_name="c",id="/kubepods/podx/y"} 1.5 1000',
      'container_network_receive_bytes_total{namespace="ns",pod_name="p",container_name="POD",interface="eth0"} 7 900',
      'container_network_receive_bytes_total{namespace="ns",pod_name="p",container_name="POD",interface="eth1"} 3 900',
      'container_start_time_seconds{namespace="ns",pod_name="p",container_name="c"} 0.5',
      'container_spec_memory_limit_bytes{namespace="ns",pod_name="p",container_name="c"} 9.223372036854772e+18',
    ].join('\n');
    const sets = byKey(decodePrometheusMetrics(text, { name: 'n' }, 5000));
    expect(sets.get('node:n')).toMatchObject({ values: { 'cpu/usage': 2_000_000_000 }, scrapeTime: 5000 });
    const container = sets.get('namespace:ns/pod:p/container:c');
    expect(container).toMatchObject({
      scrapeTime: 1000,
      startTime: 500,
      values: { 'cpu/usage': 1_500_000_000, uptime: 500 },
    });
    expect(container?.values.get('memory/limit')).toBeUndefined();
    // Docker-era sandbox, no pod cgroup: the sandbox is the pod (Heapster's POD container).
    expect(sets.get('namespace:ns/pod:p')).toMatchObject({ values: { 'network/rx': 10 }, scrapeTime: 900 });
  });

  it('reports malformed text as a DecodeError with the path and line', () => {
    expect(() => decodePrometheusMetrics('ok 1\nbad{', { name: 'n' }, 0, '/metrics/resource')).toThrow(
      DecodeError,
    );
    expect(() => decodePrometheusMetrics('ok 1\nbad{', { name: 'n' }, 0, '/metrics/resource')).toThrow(
      '/metrics/resource line 2',
    );
  });
});

describe('values a metric cannot hold, and limits', () => {
  const decode = (lines: string[], options: DecodeOptions = {}) => {
    const report = new DecodeReport();
    const sets = decodePrometheusMetrics(
      lines.join('\n'),
      { name: 'n' },
      5000,
      '/metrics/cadvisor',
      'summary',
      {
        report,
        ...options,
      },
    );
    return { sets: byKey(sets), report };
  };

  it('omits NaN, ±Inf, negative counters and values ≥ 2^63 after scaling, naming the line', () => {
    const { sets, report } = decode([
      'container_memory_usage_bytes{id="/"} 10',
      'container_cpu_usage_seconds_total{id="/",cpu="total"} -1',
      'container_memory_rss{id="/"} NaN',
      'container_memory_cache{id="/"} -Inf',
      'container_fs_limit_bytes{id="/",device="/dev/sda"} 1.8446744073709552e+19',
      'container_fs_usage_bytes{id="/",device="/dev/sda"} 5',
      'container_cpu_usage_seconds_total{namespace="a",pod="b",container="c",cpu="total"} 1e10',
    ]);
    expect(sets.get('node:n')?.values).toEqual({ 'memory/usage': 10 });
    expect(sets.get('node:n')?.labeled.map((v) => [v.name, v.value])).toEqual([['filesystem/usage', 5]]);
    // 1e10 s is 1e19 ns, past 2^63: the container had nothing else, so it has no set.
    expect(sets.has('namespace:a/pod:b/container:c')).toBe(false);
    expect(report.valuesOmitted).toBe(5);
    expect(report.firstValue).toBe(
      '/metrics/cadvisor line 2 (container_cpu_usage_seconds_total): -1 is not an integer in [0, 2^63), as cpu/usage must be; omitted',
    );
  });

  it('omits a start time that is no date once in ms (found by fuzzing: 1.8e305 s became an Infinity startTime)', () => {
    const { sets, report } = decode([
      'container_memory_usage_bytes{id="/"} 10',
      'container_start_time_seconds{id="/"} 1.797693134862316e+305',
    ]);
    expect(sets.get('node:n')?.startTime).toBe(0);
    expect(report.valuesOmitted).toBe(1);
  });

  it('leaves a network total out when a part is out of range or the total reaches 2^63', () => {
    const { sets, report } = decode([
      'container_network_receive_bytes_total{id="/",interface="eth0"} 7',
      'container_network_receive_bytes_total{id="/",interface="eth1"} NaN',
      'container_network_transmit_bytes_total{id="/",interface="eth0"} 6e18',
      'container_network_transmit_bytes_total{id="/",interface="eth1"} 6e18',
      'container_network_receive_errors_total{id="/",interface="eth0"} 1',
    ]);
    expect(sets.get('node:n')?.values).toEqual({ 'network/rx_errors': 1 });
    expect(report.valuesOmitted).toBe(2);
  });

  it('reads a memory limit of 0 or ≥ 2^62 (+Inf too) as unlimited without reporting it', () => {
    const limit = (v: string) =>
      decode([
        'container_memory_usage_bytes{namespace="a",pod="b",container="c"} 1',
        `container_spec_memory_limit_bytes{namespace="a",pod="b",container="c"} ${v}`,
      ]);
    for (const v of ['0', '+Inf', '1.8446744073709552e+19']) {
      const { sets, report } = limit(v);
      expect(sets.get('namespace:a/pod:b/container:c')?.values.get('memory/limit')).toBeUndefined();
      expect(report.valuesOmitted).toBe(0);
    }
    expect(limit('-1').report.valuesOmitted).toBe(1);
    expect(limit('4096').sets.get('namespace:a/pod:b/container:c')?.values.get('memory/limit')).toBe(4096);
  });

  it('stops reading at max_series, before a malformed line further on', () => {
    const lines = ['container_memory_usage_bytes{id="/"} 1', 'machine_cpu_cores 4', 'up 1', 'bad{'];
    expect(() => decode(lines, { maxSeries: 2 })).toThrow(ScrapeError);
    expect(() => decode(lines, { maxSeries: 2 })).toThrow(
      'node n: /metrics/cadvisor holds more than max_series (2) samples; stopped at line 3',
    );
    expect(() => decode(lines, { maxSeries: 3 })).toThrow(DecodeError);
    expect(() => decode(lines, { maxSeries: 3 })).toThrow('line 4');
  });

  it('fails with too_large at the set past max_sets_per_node', () => {
    const lines = ['a', 'b', 'c'].map(
      (c) => `container_memory_usage_bytes{namespace="n",pod="p",container="${c}"} 1`,
    );
    expect(decode(lines, { maxSets: 3 }).sets.size).toBe(3);
    expect(() => decode(lines, { maxSets: 2 })).toThrow('more than max_sets_per_node (2) sets');
  });
});
