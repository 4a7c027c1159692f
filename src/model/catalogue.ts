/**
 * Every metric heapstream knows, as data: name, unit, kind and value type, following Heapster's names.
 * Sinks derive their schemas from here and the rate processor derives its counter list from `rateOf`.
 *
 * @example
 * const cpu = metricByName('cpu/usage'); // { kind: 'cumulative', valueType: 'int', unit: 'ns', … }
 */
export type MetricKind = 'cumulative' | 'gauge';
export type ValueType = 'int' | 'float';

/** Every kind of metric set, from the node down to the container, then the aggregates (namespace, cluster). */
export const SET_TYPES = ['node', 'sys_container', 'pod', 'pod_container', 'ns', 'cluster'] as const;
export type SetType = (typeof SET_TYPES)[number];

export interface MetricDescriptor {
  readonly name: string;
  readonly unit: string;
  readonly kind: MetricKind;
  readonly valueType: ValueType;
  /** Labeled metrics carry per-object values (filesystem, disk device, accelerator) with extra labels. */
  readonly labeled: boolean;
  /** For a `_rate` metric: the cumulative counter it is derived from. */
  readonly rateOf?: string;
  readonly description: string;
}

function metric(
  name: string,
  unit: string,
  kind: MetricKind,
  valueType: ValueType,
  description: string,
  extra: { labeled?: boolean; rateOf?: string } = {},
): MetricDescriptor {
  return {
    name,
    unit,
    kind,
    valueType,
    labeled: extra.labeled ?? false,
    ...(extra.rateOf === undefined ? {} : { rateOf: extra.rateOf }),
    description,
  };
}

const resources = ['cpu', 'memory', 'ephemeral_storage'] as const;

export const CATALOGUE: readonly MetricDescriptor[] = [
  metric('uptime', 'ms', 'cumulative', 'int', 'Milliseconds since the object started.'),
  metric('cpu/usage', 'ns', 'cumulative', 'int', 'Cumulative CPU time consumed, in nanoseconds.'),
  metric('cpu/usage_rate', 'millicores', 'gauge', 'int', 'CPU usage rate in millicores.', {
    rateOf: 'cpu/usage',
  }),
  metric('cpu/load', 'count', 'gauge', 'int', 'CPU load average (cAdvisor only).'),
  metric('cpu/request', 'millicores', 'gauge', 'int', 'CPU request in millicores.'),
  metric('cpu/limit', 'millicores', 'gauge', 'int', 'CPU limit in millicores.'),
  metric('memory/usage', 'bytes', 'gauge', 'int', 'Total memory usage, including cache.'),
  metric('memory/working_set', 'bytes', 'gauge', 'int', 'Memory that cannot be evicted (working set).'),
  metric('memory/rss', 'bytes', 'gauge', 'int', 'Resident set size.'),
  metric('memory/cache', 'bytes', 'gauge', 'int', 'Page cache (cAdvisor only).'),
  metric('memory/page_faults', 'count', 'cumulative', 'int', 'Number of page faults.'),
  metric('memory/major_page_faults', 'count', 'cumulative', 'int', 'Number of major page faults.'),
  metric('memory/page_faults_rate', 'per_second', 'gauge', 'float', 'Page faults per second.', {
    rateOf: 'memory/page_faults',
  }),
  metric('memory/major_page_faults_rate', 'per_second', 'gauge', 'float', 'Major page faults per second.', {
    rateOf: 'memory/major_page_faults',
  }),
  metric('memory/request', 'bytes', 'gauge', 'int', 'Memory request.'),
  metric('memory/limit', 'bytes', 'gauge', 'int', 'Memory limit.'),
  metric('network/rx', 'bytes', 'cumulative', 'int', 'Bytes received.'),
  metric('network/rx_errors', 'count', 'cumulative', 'int', 'Receive errors.'),
  metric('network/tx', 'bytes', 'cumulative', 'int', 'Bytes sent.'),
  metric('network/tx_errors', 'count', 'cumulative', 'int', 'Transmit errors.'),
  metric('network/rx_rate', 'bytes_per_second', 'gauge', 'float', 'Bytes received per second.', {
    rateOf: 'network/rx',
  }),
  metric('network/rx_errors_rate', 'per_second', 'gauge', 'float', 'Receive errors per second.', {
    rateOf: 'network/rx_errors',
  }),
  metric('network/tx_rate', 'bytes_per_second', 'gauge', 'float', 'Bytes sent per second.', {
    rateOf: 'network/tx',
  }),
  metric('network/tx_errors_rate', 'per_second', 'gauge', 'float', 'Transmit errors per second.', {
    rateOf: 'network/tx_errors',
  }),
  metric('ephemeral_storage/usage', 'bytes', 'gauge', 'int', 'Ephemeral storage used.'),
  metric('ephemeral_storage/request', 'bytes', 'gauge', 'int', 'Ephemeral storage request.'),
  metric('ephemeral_storage/limit', 'bytes', 'gauge', 'int', 'Ephemeral storage limit.'),
  metric('restart_count', 'count', 'cumulative', 'int', 'Container restarts, from the pod status.'),
  metric('filesystem/usage', 'bytes', 'gauge', 'int', 'Filesystem bytes used.', { labeled: true }),
  metric('filesystem/limit', 'bytes', 'gauge', 'int', 'Filesystem capacity in bytes.', { labeled: true }),
  metric('filesystem/available', 'bytes', 'gauge', 'int', 'Filesystem bytes available.', { labeled: true }),
  metric('filesystem/inodes', 'count', 'gauge', 'int', 'Filesystem inodes in total.', { labeled: true }),
  metric('filesystem/inodes_free', 'count', 'gauge', 'int', 'Filesystem inodes free.', { labeled: true }),
  metric('disk/io_read_bytes', 'bytes', 'cumulative', 'int', 'Bytes read from a block device.', {
    labeled: true,
  }),
  metric('disk/io_write_bytes', 'bytes', 'cumulative', 'int', 'Bytes written to a block device.', {
    labeled: true,
  }),
  metric('disk/io_read_bytes_rate', 'bytes_per_second', 'gauge', 'float', 'Bytes read per second.', {
    labeled: true,
    rateOf: 'disk/io_read_bytes',
  }),
  metric('disk/io_write_bytes_rate', 'bytes_per_second', 'gauge', 'float', 'Bytes written per second.', {
    labeled: true,
    rateOf: 'disk/io_write_bytes',
  }),
  metric('accelerator/memory_total', 'bytes', 'gauge', 'int', 'Accelerator memory in total.', {
    labeled: true,
  }),
  metric('accelerator/memory_used', 'bytes', 'gauge', 'int', 'Accelerator memory used.', { labeled: true }),
  metric('accelerator/duty_cycle', 'percent', 'gauge', 'int', 'Accelerator busy time, in percent.', {
    labeled: true,
  }),
  metric('nodes_reporting', 'count', 'gauge', 'int', 'Nodes whose data a namespace or cluster set sums.'),
  metric(
    'nodes_expected',
    'count',
    'gauge',
    'int',
    'Nodes known in the cycle a namespace or cluster set sums.',
  ),
  ...resources.flatMap((r) => [
    metric(
      `${r}/node_capacity`,
      r === 'cpu' ? 'millicores' : 'bytes',
      'gauge',
      'float',
      `Node ${r} capacity.`,
    ),
    metric(
      `${r}/node_allocatable`,
      r === 'cpu' ? 'millicores' : 'bytes',
      'gauge',
      'float',
      `Node ${r} allocatable.`,
    ),
    metric(`${r}/node_utilization`, 'ratio', 'gauge', 'float', `Node ${r} usage ÷ allocatable.`),
    metric(`${r}/node_reservation`, 'ratio', 'gauge', 'float', `Node ${r} requests ÷ allocatable.`),
  ]),
];

const byName = new Map(CATALOGUE.map((m) => [m.name, m]));

/** The descriptor of a catalogue metric, or undefined for custom and extended-resource metrics. */
export function metricByName(name: string): MetricDescriptor | undefined {
  return byName.get(name);
}

/** Cumulative counter → its rate metric (Heapster's RateMetricsMapping). */
export const RATE_OF_COUNTER: ReadonlyMap<string, MetricDescriptor> = new Map(
  CATALOGUE.filter((m) => m.rateOf !== undefined).map((m) => [m.rateOf as string, m]),
);

/** Value type of any metric, including ones outside the catalogue (custom metrics are floats). */
export function valueTypeOf(name: string): ValueType {
  return byName.get(name)?.valueType ?? (name.startsWith('custom/') ? 'float' : 'int');
}
