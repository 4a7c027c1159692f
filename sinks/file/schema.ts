/**
 * The file sink's table layout (schema version 1), as data: the same columns for Parquet and JSONL.
 * Everything here is computed once at module load, never per metric value.
 *
 * Changing a column's name or type, or removing one, needs a new SCHEMA_VERSION; adding a metric column for a
 * new catalogue metric keeps the version (readers that use `union_by_name` see null in older files).
 */
import {
  CATALOGUE,
  SET_TYPES,
  type MetricDescriptor,
  type SetType,
  type ValueType,
} from '../../src/model/catalogue.js';
import { LABEL } from '../../src/model/labels.js';
import { slotOf } from '../../src/model/set-values.js';

/** Written to every Parquet file's key-value metadata as `heapstream.schema_version`. */
export const SCHEMA_VERSION = 1;

/** The metadata columns, each copied from one label (and removed from the `labels` map). */
export const LABEL_COLUMNS = [
  { column: 'node', label: LABEL.nodename },
  { column: 'namespace', label: LABEL.namespaceName },
  { column: 'pod', label: LABEL.podName },
  { column: 'container', label: LABEL.containerName },
  { column: 'pod_uid', label: LABEL.podId },
  { column: 'workload_kind', label: LABEL.workloadKind },
  { column: 'workload_name', label: LABEL.workloadName },
] as const;

/** Labels that have a column of their own (`type` is the `type` column), so the `labels` map leaves them out. */
export const PROMOTED_LABELS: ReadonlySet<string> = new Set<string>([
  LABEL.type,
  ...LABEL_COLUMNS.map((c) => c.label),
]);

/** One metric's column: the metric name with `/` as `_` (`cpu/usage_rate` → `cpu_usage_rate`). */
export interface MetricColumn {
  readonly column: string;
  readonly metric: string;
  /** The metric's slot in a set's values (set-values.ts); -1 for a labeled metric, which has none. */
  readonly slot: number;
  readonly valueType: ValueType;
  readonly unit: string;
}

/**
 * Labeled values of one catalogue family become a list of structs, one struct per object (filesystem, disk,
 * accelerator), told apart by `keyLabels`; each metric of the family is a field named by its suffix.
 */
export interface LabeledFamily {
  readonly column: string;
  readonly prefix: string;
  readonly keyLabels: readonly string[];
  readonly fields: readonly MetricColumn[];
}

/** The metrics a set type has (Heapster's table, reference/heapster-behaviour.md b), widened where cheap. */
const CONTAINER_METRICS = [
  'uptime',
  'cpu/usage',
  'cpu/usage_rate',
  'cpu/load',
  'cpu/request',
  'cpu/limit',
  'memory/usage',
  'memory/working_set',
  'memory/rss',
  'memory/cache',
  'memory/page_faults',
  'memory/major_page_faults',
  'memory/page_faults_rate',
  'memory/major_page_faults_rate',
  'memory/request',
  'memory/limit',
  'network/rx',
  'network/rx_errors',
  'network/tx',
  'network/tx_errors',
  'network/rx_rate',
  'network/rx_errors_rate',
  'network/tx_rate',
  'network/tx_errors_rate',
  'ephemeral_storage/usage',
  'ephemeral_storage/request',
  'ephemeral_storage/limit',
  'restart_count',
];
const NODE_ONLY_METRICS = ['cpu', 'memory', 'ephemeral_storage'].flatMap((r) => [
  `${r}/node_capacity`,
  `${r}/node_allocatable`,
  `${r}/node_utilization`,
  `${r}/node_reservation`,
]);
const AGGREGATE_METRICS = [
  'cpu/usage_rate',
  'cpu/request',
  'cpu/limit',
  'memory/usage',
  'memory/working_set',
  'memory/rss',
  'memory/page_faults_rate',
  'memory/major_page_faults_rate',
  'memory/request',
  'memory/limit',
  'network/rx_rate',
  'network/rx_errors_rate',
  'network/tx_rate',
  'network/tx_errors_rate',
  'ephemeral_storage/usage',
  'ephemeral_storage/request',
  'ephemeral_storage/limit',
  'restart_count',
  'nodes_reporting',
  'nodes_expected',
];

const METRICS_BY_TYPE: Readonly<Record<SetType, readonly string[]>> = {
  node: [...CONTAINER_METRICS, ...NODE_ONLY_METRICS],
  sys_container: CONTAINER_METRICS,
  pod: CONTAINER_METRICS,
  pod_container: CONTAINER_METRICS,
  ns: AGGREGATE_METRICS,
  cluster: AGGREGATE_METRICS,
};

const FAMILY_SPECS = [
  { column: 'filesystems', prefix: 'filesystem/', keyLabels: [LABEL.resourceId] },
  { column: 'disks', prefix: 'disk/', keyLabels: [LABEL.resourceId] },
  {
    column: 'accelerators',
    prefix: 'accelerator/',
    keyLabels: [LABEL.make, LABEL.model, LABEL.acceleratorId],
  },
] as const;

/** Types whose objects have filesystems, disks or accelerators; namespaces and the cluster have none. */
const TYPES_WITH_FAMILIES: ReadonlySet<SetType> = new Set(['node', 'sys_container', 'pod', 'pod_container']);

/** The column layout of one file: all rows of one set type, or (`all`) of every type. */
export interface TableLayout {
  readonly name: SetType | 'all';
  readonly metrics: readonly MetricColumn[];
  readonly families: readonly LabeledFamily[];
  /** Metric name → its column index in `metrics`, for telling schema values from `other_values`. */
  readonly metricIndex: ReadonlyMap<string, number>;
  /** Labeled metric name → [family index, field index]. */
  readonly familyField: ReadonlyMap<string, readonly [number, number]>;
}

/** `cpu/usage_rate` → `cpu_usage_rate`. */
export function columnName(metric: string): string {
  return metric.replaceAll('/', '_');
}

function metricColumn(m: MetricDescriptor, column: string): MetricColumn {
  return { column, metric: m.name, slot: slotOf(m.name), valueType: m.valueType, unit: m.unit };
}

const ALL_FAMILIES: readonly LabeledFamily[] = FAMILY_SPECS.map((spec) => ({
  column: spec.column,
  prefix: spec.prefix,
  keyLabels: spec.keyLabels,
  fields: CATALOGUE.filter((m) => m.labeled && m.name.startsWith(spec.prefix)).map((m) =>
    metricColumn(m, m.name.slice(spec.prefix.length)),
  ),
}));

function buildLayout(
  name: SetType | 'all',
  metricNames: ReadonlySet<string>,
  withFamilies: boolean,
): TableLayout {
  // Catalogue order, so that every version lists columns the same way whatever order the lists above use.
  const metrics = CATALOGUE.filter((m) => !m.labeled && metricNames.has(m.name)).map((m) =>
    metricColumn(m, columnName(m.name)),
  );
  const families = withFamilies ? ALL_FAMILIES : [];
  const familyField = new Map<string, readonly [number, number]>();
  families.forEach((f, fi) =>
    f.fields.forEach((field, i) => familyField.set(field.metric, [fi, i] as const)),
  );
  return {
    name,
    metrics,
    families,
    metricIndex: new Map(metrics.map((m, i) => [m.metric, i])),
    familyField,
  };
}

const LAYOUTS: ReadonlyMap<SetType | 'all', TableLayout> = new Map([
  ...SET_TYPES.map(
    (t) => [t, buildLayout(t, new Set(METRICS_BY_TYPE[t]), TYPES_WITH_FAMILIES.has(t))] as const,
  ),
  ['all', buildLayout('all', new Set(SET_TYPES.flatMap((t) => METRICS_BY_TYPE[t])), true)] as const,
]);

/**
 * The layout of a file holding one set type's rows, or every type's (`all`, used when the partition template
 * has no `{type}`).
 *
 * @example
 * layoutFor('pod').metrics[0]; // { column: 'uptime', metric: 'uptime', slot: 0, valueType: 'int', unit: 'ms' }
 */
export function layoutFor(name: SetType | 'all'): TableLayout {
  return LAYOUTS.get(name) as TableLayout;
}
