/**
 * Renders a kubelet `/stats/summary` payload as the other kubelet endpoints would have answered at the same
 * instant: cAdvisor v1 (`POST /stats/container/`, `/api/v1.3/subcontainers/`), `/metrics/resource` and
 * `/metrics/cadvisor`. The simulator serves these from the same state as its summary, so every kubelet
 * source can be run against it and their sets compared.
 *
 * Not a hot path of heapstream itself: one render per simulated request, plain objects and string building.
 * Cgroup layout: `/kubepods/pod<uid>` per pod, `…/<container>` per container, `…/sandbox` for the `POD`
 * container carrying the pod's network; `kubelet` → `/system.slice/kubelet.service`, `runtime` →
 * `/system.slice/containerd.service`, `pods` → `/kubepods`.
 */

import { isPlainObject } from '../../model/plain-object.js';

type Json = Record<string, unknown>;

const SYSTEM_CGROUPS: Readonly<Record<string, string>> = {
  kubelet: '/system.slice/kubelet.service',
  runtime: '/system.slice/containerd.service',
  pods: '/kubepods',
};

/** One cgroup of the rendered node, endpoint-neutral. */
interface Cgroup {
  readonly id: string;
  readonly startTime: string | undefined;
  readonly time: string | undefined;
  readonly cpu: Json | undefined;
  readonly memory: Json | undefined;
  readonly network: Json | undefined;
  readonly fs: Json | undefined;
  readonly pod?: { readonly namespace: string; readonly name: string; readonly uid: string };
  /** Kubernetes container name; `POD` for the sandbox; undefined for the pod's own cgroup. */
  readonly container?: string;
}

const obj = (value: unknown): Json | undefined => (isPlainObject(value) ? value : undefined);
const arr = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const num = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined);

function timeOf(...blocks: Array<Json | undefined>): string | undefined {
  for (const block of blocks) {
    const time = str(block?.['time']);
    if (time !== undefined) return time;
  }
  return undefined;
}

/** Every cgroup the summary describes, node first. */
function cgroupsOf(summary: Json): Cgroup[] {
  const node = obj(summary['node']) ?? {};
  const cpu = obj(node['cpu']);
  const memory = obj(node['memory']);
  const out: Cgroup[] = [
    {
      id: '/',
      startTime: str(node['startTime']),
      time: timeOf(cpu, memory),
      cpu,
      memory,
      network: obj(node['network']),
      fs: obj(node['fs']),
    },
  ];
  for (const item of arr(node['systemContainers'])) {
    const c = obj(item) ?? {};
    const name = str(c['name']) ?? 'misc';
    const id = SYSTEM_CGROUPS[name] ?? `/system.slice/${name}.service`;
    const sc = obj(c['cpu']);
    const sm = obj(c['memory']);
    out.push({
      id,
      startTime: str(c['startTime']),
      time: timeOf(sc, sm),
      cpu: sc,
      memory: sm,
      network: undefined,
      fs: undefined,
    });
  }
  for (const item of arr(summary['pods'])) {
    const p = obj(item) ?? {};
    const ref = obj(p['podRef']) ?? {};
    const pod = {
      namespace: str(ref['namespace']) ?? '',
      name: str(ref['name']) ?? '',
      uid: str(ref['uid']) ?? '',
    };
    const base = `/kubepods/pod${pod.uid}`;
    const pc = obj(p['cpu']);
    const pm = obj(p['memory']);
    const network = obj(p['network']);
    out.push({
      id: base,
      startTime: str(p['startTime']),
      time: timeOf(pc, pm, network),
      cpu: pc,
      memory: pm,
      network: undefined,
      fs: undefined,
      pod,
    });
    if (network !== undefined) {
      out.push({
        id: `${base}/sandbox`,
        startTime: str(p['startTime']),
        time: timeOf(network),
        cpu: undefined,
        memory: undefined,
        network,
        fs: undefined,
        pod,
        container: 'POD',
      });
    }
    for (const citem of arr(p['containers'])) {
      const c = obj(citem) ?? {};
      const name = str(c['name']) ?? '';
      const cc = obj(c['cpu']);
      const cm = obj(c['memory']);
      out.push({
        id: `${base}/${name}`,
        startTime: str(c['startTime']),
        time: timeOf(cc, cm),
        cpu: cc,
        memory: cm,
        network: undefined,
        fs: undefined,
        pod,
        container: name,
      });
    }
  }
  return out;
}

function interfacesOf(network: Json): Json[] {
  const list = arr(network['interfaces']).map((i) => obj(i) ?? {});
  return list.length > 0 ? list : [network];
}

/**
 * The cAdvisor v1 answer of the kubelet's `POST /stats/container/` (a map name → ContainerInfo); standalone
 * cAdvisor's `/api/v1.3/subcontainers/` is `Object.values` of it.
 *
 * @example
 * const body = JSON.stringify(renderCadvisorV1(JSON.parse(summaryText)));
 */
export function renderCadvisorV1(summary: Json): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const c of cgroupsOf(summary)) {
    const stat: Json = { timestamp: c.time ?? c.startTime };
    if (c.cpu !== undefined)
      stat['cpu'] = { usage: { total: num(c.cpu['usageCoreNanoSeconds']) ?? 0 }, load_average: 0 };
    if (c.memory !== undefined) {
      stat['memory'] = {
        usage: num(c.memory['usageBytes']),
        working_set: num(c.memory['workingSetBytes']),
        rss: num(c.memory['rssBytes']),
        container_data: {
          pgfault: num(c.memory['pageFaults']),
          pgmajfault: num(c.memory['majorPageFaults']),
        },
      };
    }
    if (c.network !== undefined) {
      stat['network'] = {
        interfaces: interfacesOf(c.network).map((i) => ({
          name: str(i['name']) ?? 'eth0',
          rx_bytes: num(i['rxBytes']) ?? 0,
          rx_errors: num(i['rxErrors']) ?? 0,
          tx_bytes: num(i['txBytes']) ?? 0,
          tx_errors: num(i['txErrors']) ?? 0,
        })),
      };
    }
    if (c.fs !== undefined) {
      stat['filesystem'] = [
        {
          device: '/dev/root',
          capacity: num(c.fs['capacityBytes']),
          usage: num(c.fs['usedBytes']),
          available: num(c.fs['availableBytes']),
          has_inodes: true,
          inodes: num(c.fs['inodes']),
          inodes_free: num(c.fs['inodesFree']),
        },
      ];
    }
    const spec: Json = {
      creation_time: c.startTime,
      has_cpu: c.cpu !== undefined,
      has_memory: c.memory !== undefined,
      has_network: c.network !== undefined,
      has_filesystem: c.fs !== undefined,
      has_diskio: false,
    };
    if (c.pod !== undefined && c.container !== undefined) {
      spec['labels'] = {
        'io.kubernetes.pod.name': c.pod.name,
        'io.kubernetes.pod.namespace': c.pod.namespace,
        'io.kubernetes.pod.uid': c.pod.uid,
        'io.kubernetes.container.name': c.container,
      };
    }
    out[c.id] = { name: c.id, spec, stats: [stat] };
  }
  return out;
}

function ms(time: string | undefined): number | undefined {
  if (time === undefined) return undefined;
  const value = Date.parse(time);
  return Number.isNaN(value) ? undefined : value;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Prometheus text writer: one `# TYPE` per family, samples in family order. */
class PromText {
  private readonly families = new Map<string, { type: string; lines: string[] }>();

  add(
    name: string,
    type: string,
    labels: Record<string, string>,
    value: number | undefined,
    time?: number,
  ): void {
    if (value === undefined) return;
    let family = this.families.get(name);
    if (family === undefined) this.families.set(name, (family = { type, lines: [] }));
    const set = Object.entries(labels)
      .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
      .join(',');
    family.lines.push(
      `${name}${set === '' ? '' : `{${set}}`} ${value}${time === undefined ? '' : ` ${time}`}`,
    );
  }

  toString(): string {
    let out = '';
    for (const [name, { type, lines }] of this.families) {
      out += `# HELP ${name} Rendered by the heapstream simulator.\n# TYPE ${name} ${type}\n${lines.join('\n')}\n`;
    }
    return out;
  }
}

/**
 * The kubelet's `/metrics/resource` text for the same instant.
 *
 * @example
 * const text = renderMetricsResource(JSON.parse(summaryText));
 */
export function renderMetricsResource(summary: Json): string {
  const text = new PromText();
  for (const c of cgroupsOf(summary)) {
    const cpu = num(c.cpu?.['usageCoreNanoSeconds']);
    const ws = num(c.memory?.['workingSetBytes']);
    const cpuTime = ms(str(c.cpu?.['time']));
    const memTime = ms(str(c.memory?.['time']));
    const seconds = cpu === undefined ? undefined : cpu / 1e9;
    if (c.id === '/') {
      text.add('node_cpu_usage_seconds_total', 'counter', {}, seconds, cpuTime);
      text.add('node_memory_working_set_bytes', 'gauge', {}, ws, memTime);
    } else if (c.pod !== undefined && c.container === undefined) {
      const labels = { namespace: c.pod.namespace, pod: c.pod.name };
      text.add('pod_cpu_usage_seconds_total', 'counter', labels, seconds, cpuTime);
      text.add('pod_memory_working_set_bytes', 'gauge', labels, ws, memTime);
    } else if (c.pod !== undefined && c.container !== 'POD') {
      const labels = { container: c.container ?? '', namespace: c.pod.namespace, pod: c.pod.name };
      text.add('container_cpu_usage_seconds_total', 'counter', labels, seconds, cpuTime);
      text.add('container_memory_working_set_bytes', 'gauge', labels, ws, memTime);
      const start = ms(c.startTime);
      text.add(
        'container_start_time_seconds',
        'gauge',
        labels,
        start === undefined ? undefined : start / 1000,
        cpuTime,
      );
    }
  }
  text.add('scrape_error', 'gauge', {}, 0);
  return text.toString();
}

/**
 * The kubelet's `/metrics/cadvisor` text for the same instant (cpu, memory, network, start time, node
 * filesystem).
 *
 * @example
 * const text = renderMetricsCadvisor(JSON.parse(summaryText));
 */
export function renderMetricsCadvisor(summary: Json): string {
  const text = new PromText();
  for (const c of cgroupsOf(summary)) {
    const labels: Record<string, string> = {
      container: c.container === 'POD' ? '' : (c.container ?? ''),
      id: c.id,
      image: '',
      name: c.container === undefined ? '' : c.id.slice(c.id.lastIndexOf('/') + 1),
      namespace: c.pod?.namespace ?? '',
      pod: c.pod?.name ?? '',
    };
    const time = ms(c.time);
    const cpu = num(c.cpu?.['usageCoreNanoSeconds']);
    text.add(
      'container_cpu_usage_seconds_total',
      'counter',
      { ...labels, cpu: 'total' },
      cpu === undefined ? undefined : cpu / 1e9,
      time,
    );
    const m = c.memory;
    text.add('container_memory_usage_bytes', 'gauge', labels, num(m?.['usageBytes']), time);
    text.add('container_memory_working_set_bytes', 'gauge', labels, num(m?.['workingSetBytes']), time);
    text.add('container_memory_rss', 'gauge', labels, num(m?.['rssBytes']), time);
    for (const [kind, field] of [
      ['pgfault', 'pageFaults'],
      ['pgmajfault', 'majorPageFaults'],
    ] as const) {
      text.add(
        'container_memory_failures_total',
        'counter',
        { ...labels, failure_type: kind, scope: 'container' },
        num(m?.[field]),
        time,
      );
    }
    if (c.network !== undefined) {
      for (const i of interfacesOf(c.network)) {
        const iface = { ...labels, interface: str(i['name']) ?? 'eth0' };
        text.add('container_network_receive_bytes_total', 'counter', iface, num(i['rxBytes']), time);
        text.add('container_network_receive_errors_total', 'counter', iface, num(i['rxErrors']), time);
        text.add('container_network_transmit_bytes_total', 'counter', iface, num(i['txBytes']), time);
        text.add('container_network_transmit_errors_total', 'counter', iface, num(i['txErrors']), time);
      }
    }
    if (c.fs !== undefined) {
      const fs = { ...labels, device: '/dev/root' };
      text.add('container_fs_usage_bytes', 'gauge', fs, num(c.fs['usedBytes']), time);
      text.add('container_fs_limit_bytes', 'gauge', fs, num(c.fs['capacityBytes']), time);
      text.add('container_fs_inodes_total', 'gauge', fs, num(c.fs['inodes']), time);
      text.add('container_fs_inodes_free', 'gauge', fs, num(c.fs['inodesFree']), time);
    }
    const start = ms(c.startTime);
    text.add(
      'container_start_time_seconds',
      'gauge',
      labels,
      start === undefined ? undefined : start / 1000,
      time,
    );
  }
  return text.toString();
}
