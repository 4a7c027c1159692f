import { isoSeconds } from '../model/iso-time.js';
import type { Json, JsonObject, KubeletTemplate, SummaryJson } from './template.js';

/*
 * A layout is a template's /stats/summary rendered ONCE into text segments with numbered holes between them, plus
 * the definitions of the series that fill the numeric holes. It holds nothing node-specific (names, uids, rates and
 * values live in NodeState), so every node built from the same template shares one layout: 5,000 nodes × 110 pods
 * would not fit in memory as 5,000 pre-rendered payloads.
 */

/** What fills a hole. Values below HOLE_TIME are numbers; the others are strings whose quotes sit in the segments. */
export const HOLE_VALUE = 0; // a primary series' value, as an integer
export const HOLE_LINEAR = 1; // a derived value: max(0, value[src] × mul + add), e.g. usageBytes from workingSetBytes
export const HOLE_NANOCORES = 2; // usageNanoCores: the CPU counter's rate with a little noise
export const HOLE_TIME = 3; // the sample time of this request
export const HOLE_NODE_NAME = 4;
export const HOLE_POD_NAME = 5; // arg: pod slot
export const HOLE_POD_UID = 6; // arg: pod slot
export const HOLE_CONTAINER_START = 7; // arg: container index

/** Primary series: counters grow with time (and reset on restart); walks move by a bounded random step per scrape. */
export const SERIES_COUNTER = 0;
export const SERIES_WALK = 1;

/** What a series measures, which decides how fast it moves. */
export const CATEGORY_CPU = 0;
export const CATEGORY_NET_RX = 1;
export const CATEGORY_NET_TX = 2;
export const CATEGORY_PAGE_FAULTS = 3;
export const CATEGORY_MAJOR_PAGE_FAULTS = 4;
export const CATEGORY_PSI_CPU = 5;
export const CATEGORY_PSI_OTHER = 6;
export const CATEGORY_MEMORY = 7;

/** Which object a series belongs to. */
export const LEVEL_CONTAINER = 0;
export const LEVEL_POD = 1;
export const LEVEL_PODS_SYSTEM_CONTAINER = 2; // the "pods" system container: the sum of all pods
export const LEVEL_SYSTEM_CONTAINER = 3;
export const LEVEL_NODE = 4;

/** One pod of a simulated node: which template pod it copies, and which copy it is (0 = the original). */
export interface PodSlot {
  readonly templatePod: number;
  readonly replica: number;
  /** A static pod (kube-apiserver-<node>…) is named after its node, so it is renamed rather than suffixed. */
  readonly isStatic: boolean;
}

export interface Layout {
  readonly template: KubeletTemplate;
  readonly slots: readonly PodSlot[];
  /** Start of the simulation (ms); the template's start times are shifted to sit this far before it. */
  readonly t0: number;
  /** The segments encoded once, back to back: segment h ends at segmentEnd[h]. */
  readonly segmentBytes: Buffer;
  readonly segmentEnd: Int32Array;
  readonly holeKind: Uint8Array;
  readonly holeArg: Int32Array;
  // Primary series, indexed by series id.
  readonly seriesKind: Uint8Array;
  readonly seriesCategory: Uint8Array;
  readonly seriesLevel: Uint8Array;
  /** The series this one adds into (pod into pods-system-container into node), or -1. */
  readonly seriesParent: Int32Array;
  /** The container whose restart resets this series, or -1. */
  readonly seriesOwner: Int32Array;
  /** The template's value minus what its children already account for: the object's own share. */
  readonly seriesOwnValue: Float64Array;
  /** Series ids, children before parents, so sums can be accumulated in one pass. */
  readonly order: Int32Array;
  // Derived values, indexed by the hole's arg.
  readonly derivedSource: Int32Array;
  readonly derivedMul: Float64Array;
  readonly derivedAdd: Float64Array;
  // Containers, indexed by container index.
  readonly containerSlot: Int32Array;
  readonly containerName: readonly string[];
  readonly containerInitialStart: readonly string[];
  readonly containerSeries: readonly Int32Array[];
  /** CPU capacity of the template's node in nanocores, to keep the simulated load plausible. */
  readonly cpuCapacityNanoCores: number;
  /** Scratch for one render at a time (rendering is synchronous, so nodes can share it). */
  readonly values: Float64Array;
  readonly sums: Float64Array;
  /** Where a payload is written before it is copied out; grown on demand. */
  scratch: Buffer;
}

/**
 * Renders a template into a layout for nodes of `podCount` pods, replicating the template's pods when it has fewer.
 *
 * @example
 * const layout = buildLayout(loadTemplate('nri-1.34'), 110, Date.now());
 */
export function buildLayout(template: KubeletTemplate, podCount: number, t0: number): Layout {
  const summary = template.summary;
  const slots = choosePodSlots(summary, podCount);
  const builder = new LayoutBuilder(summary, Math.floor(t0 / 1000) * 1000);
  const node = builder.node(summary.node);
  const pods = slots.map((slot, i) => builder.pod(summary.pods[slot.templatePod]!, i, node.podParent));
  const skeleton: { [key: string]: Skeleton } = {};
  for (const key of Object.keys(summary)) {
    skeleton[key] =
      key === 'node' ? node.skeleton : key === 'pods' ? pods : (summary as unknown as JsonObject)[key]!;
  }
  const text = new SegmentWriter();
  text.emit(skeleton);
  return builder.finish(template, slots, t0, text);
}

function choosePodSlots(summary: SummaryJson, podCount: number): PodSlot[] {
  const nodeName = summary.node.nodeName;
  const isStatic = summary.pods.map((p) => p.podRef.name.includes(nodeName));
  const slots: PodSlot[] = [];
  for (let i = 0; i < summary.pods.length && slots.length < podCount; i++) {
    slots.push({ templatePod: i, replica: 0, isStatic: isStatic[i]! });
  }
  // Replicate workloads, not static pods: a node runs one kube-apiserver but many copies of a deployment.
  let replicable = summary.pods.map((_, i) => i).filter((i) => !isStatic[i]);
  if (replicable.length === 0) replicable = summary.pods.map((_, i) => i);
  for (let replica = 1; slots.length < podCount && replicable.length > 0; replica++) {
    for (const i of replicable) {
      if (slots.length >= podCount) break;
      slots.push({ templatePod: i, replica, isStatic: false });
    }
  }
  return slots;
}

class Hole {
  constructor(
    readonly kind: number,
    readonly arg: number,
  ) {}
}

type Skeleton = Json | Hole | Skeleton[] | { [key: string]: Skeleton };

interface Entity {
  readonly level: number;
  readonly parent: Entity | undefined;
  readonly container: number;
  readonly series: Map<string, number>;
}

class LayoutBuilder {
  private readonly kinds: number[] = [];
  private readonly categories: number[] = [];
  private readonly levels: number[] = [];
  private readonly owners: number[] = [];
  private readonly templateValues: number[] = [];
  private readonly seriesEntity: Entity[] = [];
  private readonly seriesKey: string[] = [];
  private readonly aggregated: boolean[] = [];
  private readonly derivedSource: number[] = [];
  private readonly derivedMul: number[] = [];
  private readonly derivedAdd: number[] = [];
  private readonly containerSlot: number[] = [];
  private readonly containerName: string[] = [];
  private readonly containerStart: string[] = [];
  /** The template's sample time: start times are kept at the same distance before t0. */
  private readonly reference: number;

  constructor(
    summary: SummaryJson,
    private readonly base: number,
  ) {
    const node = summary.node as { cpu?: { time?: string }; memory?: { time?: string } };
    const reference = Date.parse(node.cpu?.time ?? node.memory?.time ?? '');
    this.reference = Number.isNaN(reference) ? base : reference;
  }

  node(node: SummaryJson['node']): { skeleton: Skeleton; podParent: Entity } {
    const entity = newEntity(LEVEL_NODE, undefined, -1);
    const hasPodsContainer = (node.systemContainers ?? []).some((c) => c.name === 'pods');
    const podsContainer = hasPodsContainer ? newEntity(LEVEL_PODS_SYSTEM_CONTAINER, entity, -1) : undefined;
    const skeleton: { [key: string]: Skeleton } = {};
    for (const [key, value] of Object.entries(node)) {
      if (key === 'nodeName') skeleton[key] = new Hole(HOLE_NODE_NAME, 0);
      else if (key === 'startTime') skeleton[key] = this.shifted(value);
      else if (key === 'systemContainers' && Array.isArray(value)) {
        skeleton[key] = value.map((c) => {
          const object = c as JsonObject;
          const own =
            object.name === 'pods' && podsContainer
              ? podsContainer
              : newEntity(LEVEL_SYSTEM_CONTAINER, entity, -1);
          return this.statsObject(object, own);
        });
      } else skeleton[key] = this.section(key, value, entity);
    }
    return { skeleton, podParent: podsContainer ?? entity };
  }

  pod(pod: SummaryJson['pods'][number], slot: number, parent: Entity): Skeleton {
    const entity = newEntity(LEVEL_POD, parent, -1);
    const skeleton: { [key: string]: Skeleton } = {};
    for (const [key, value] of Object.entries(pod)) {
      if (key === 'podRef') {
        const ref: { [key: string]: Skeleton } = {};
        for (const [refKey, refValue] of Object.entries(value as JsonObject)) {
          ref[refKey] =
            refKey === 'name'
              ? new Hole(HOLE_POD_NAME, slot)
              : refKey === 'uid'
                ? new Hole(HOLE_POD_UID, slot)
                : refValue;
        }
        skeleton[key] = ref;
      } else if (key === 'startTime') skeleton[key] = this.shifted(value);
      else if (key === 'containers' && Array.isArray(value)) {
        skeleton[key] = value.map((c) => this.container(c as JsonObject, slot, entity));
      } else skeleton[key] = this.section(key, value, entity);
    }
    return skeleton;
  }

  private container(container: JsonObject, slot: number, pod: Entity): Skeleton {
    const index = this.containerSlot.length;
    this.containerSlot.push(slot);
    this.containerName.push(typeof container.name === 'string' ? container.name : '');
    this.containerStart.push(this.shifted(container.startTime ?? null));
    const skeleton = this.statsObject(container, newEntity(LEVEL_CONTAINER, pod, index));
    (skeleton as { [key: string]: Skeleton }).startTime = new Hole(HOLE_CONTAINER_START, index);
    return skeleton;
  }

  /** A node, system container or container object: start time shifted, stats sections turned into series. */
  private statsObject(object: JsonObject, entity: Entity): Skeleton {
    const skeleton: { [key: string]: Skeleton } = {};
    for (const [key, value] of Object.entries(object)) {
      skeleton[key] = key === 'startTime' ? this.shifted(value) : this.section(key, value, entity);
    }
    return skeleton;
  }

  private section(key: string, value: Json, entity: Entity): Skeleton {
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      return this.generic(value, entity, key);
    if (key === 'cpu') return this.cpu(value, entity);
    if (key === 'memory') return this.memory(value, entity);
    if (key === 'network') return this.network(value, entity);
    return this.generic(value, entity, key);
  }

  private cpu(cpu: JsonObject, entity: Entity): Skeleton {
    const total = cpu.usageCoreNanoSeconds;
    const counter =
      typeof total === 'number' ? this.series(entity, 'cpu', SERIES_COUNTER, CATEGORY_CPU, total, true) : -1;
    const skeleton: { [key: string]: Skeleton } = {};
    for (const [key, value] of Object.entries(cpu)) {
      if (key === 'usageCoreNanoSeconds' && counter >= 0) skeleton[key] = new Hole(HOLE_VALUE, counter);
      else if (key === 'usageNanoCores' && counter >= 0) {
        skeleton[key] = new Hole(HOLE_NANOCORES, this.derived(counter, 0, 0));
      } else if (key === 'psi') skeleton[key] = this.psi(value, entity, 'cpu', CATEGORY_PSI_CPU);
      else skeleton[key] = this.generic(value, entity, key);
    }
    return skeleton;
  }

  private memory(memory: JsonObject, entity: Entity): Skeleton {
    const workingSet = memory.workingSetBytes;
    const walk =
      typeof workingSet === 'number'
        ? this.series(entity, 'memory', SERIES_WALK, CATEGORY_MEMORY, workingSet, true)
        : -1;
    const ws = typeof workingSet === 'number' ? workingSet : 0;
    const skeleton: { [key: string]: Skeleton } = {};
    for (const [key, value] of Object.entries(memory)) {
      if (walk >= 0 && typeof value === 'number' && key === 'workingSetBytes') {
        skeleton[key] = new Hole(HOLE_VALUE, walk);
      } else if (walk >= 0 && typeof value === 'number' && key === 'usageBytes') {
        skeleton[key] = new Hole(HOLE_LINEAR, this.derived(walk, 1, value - ws)); // page cache on top
      } else if (walk >= 0 && typeof value === 'number' && key === 'rssBytes') {
        skeleton[key] = new Hole(HOLE_LINEAR, this.derived(walk, ws > 0 ? value / ws : 1, 0));
      } else if (walk >= 0 && typeof value === 'number' && key === 'availableBytes') {
        skeleton[key] = new Hole(HOLE_LINEAR, this.derived(walk, -1, value + ws)); // limit − working set
      } else if (typeof value === 'number' && key === 'pageFaults') {
        skeleton[key] = this.counter(entity, 'pageFaults', CATEGORY_PAGE_FAULTS, value);
      } else if (typeof value === 'number' && key === 'majorPageFaults') {
        skeleton[key] = this.counter(entity, 'majorPageFaults', CATEGORY_MAJOR_PAGE_FAULTS, value);
      } else if (key === 'psi') skeleton[key] = this.psi(value, entity, 'memory', CATEGORY_PSI_OTHER);
      else skeleton[key] = this.generic(value, entity, key);
    }
    return skeleton;
  }

  private network(network: JsonObject, entity: Entity): Skeleton {
    const primary = network.name;
    const skeleton: { [key: string]: Skeleton } = {};
    const rx =
      typeof network.rxBytes === 'number'
        ? this.counter(entity, 'rxBytes', CATEGORY_NET_RX, network.rxBytes)
        : undefined;
    const tx =
      typeof network.txBytes === 'number'
        ? this.counter(entity, 'txBytes', CATEGORY_NET_TX, network.txBytes)
        : undefined;
    for (const [key, value] of Object.entries(network)) {
      if (key === 'rxBytes' && rx) skeleton[key] = rx;
      else if (key === 'txBytes' && tx) skeleton[key] = tx;
      else if (key === 'interfaces' && Array.isArray(value)) {
        // The default interface is listed twice (top level and in interfaces); both must show the same counters.
        skeleton[key] = value.map((item) => {
          const nic = item as JsonObject;
          if (nic.name !== primary || typeof primary !== 'string') return this.generic(nic, entity, key);
          const copy: { [key: string]: Skeleton } = {};
          for (const [nicKey, nicValue] of Object.entries(nic)) {
            copy[nicKey] = nicKey === 'rxBytes' && rx ? rx : nicKey === 'txBytes' && tx ? tx : nicValue;
          }
          return copy;
        });
      } else skeleton[key] = this.generic(value, entity, key);
    }
    return skeleton;
  }

  /** Pressure stall totals are cumulative microseconds per cgroup; averages stay as captured. */
  private psi(value: Json, entity: Entity, resource: string, category: number): Skeleton {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
    const skeleton: { [key: string]: Skeleton } = {};
    for (const [kind, stats] of Object.entries(value)) {
      if (stats === null || typeof stats !== 'object' || Array.isArray(stats)) {
        skeleton[kind] = stats;
        continue;
      }
      const copy: { [key: string]: Skeleton } = {};
      for (const [key, v] of Object.entries(stats)) {
        copy[key] =
          key === 'total' && typeof v === 'number'
            ? new Hole(
                HOLE_VALUE,
                this.series(entity, `psi.${resource}.${kind}`, SERIES_COUNTER, category, v, false),
              )
            : v;
      }
      skeleton[kind] = copy;
    }
    return skeleton;
  }

  /** Everything else (filesystems, volumes, rlimit, swap…) stays as captured, except sample times. */
  private generic(value: Json, entity: Entity, key: string): Skeleton {
    if (key === 'time' && typeof value === 'string') return new Hole(HOLE_TIME, 0);
    if (value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return value.map((item) => this.generic(item, entity, ''));
    const skeleton: { [key: string]: Skeleton } = {};
    for (const [k, v] of Object.entries(value)) {
      skeleton[k] = k === 'psi' ? this.psi(v, entity, key, CATEGORY_PSI_OTHER) : this.generic(v, entity, k);
    }
    return skeleton;
  }

  private counter(entity: Entity, key: string, category: number, value: number): Hole {
    return new Hole(HOLE_VALUE, this.series(entity, key, SERIES_COUNTER, category, value, true));
  }

  private series(
    entity: Entity,
    key: string,
    kind: number,
    category: number,
    value: number,
    aggregated: boolean,
  ): number {
    const id = this.kinds.length;
    this.kinds.push(kind);
    this.categories.push(category);
    this.levels.push(entity.level);
    this.owners.push(entity.container);
    this.templateValues.push(value);
    this.seriesEntity.push(entity);
    this.seriesKey.push(key);
    this.aggregated.push(aggregated);
    entity.series.set(key, id);
    return id;
  }

  private derived(source: number, mul: number, add: number): number {
    this.derivedSource.push(source);
    this.derivedMul.push(mul);
    this.derivedAdd.push(add);
    return this.derivedSource.length - 1;
  }

  /** A template start time moved so that it is as far before t0 as it was before the capture. */
  private shifted(value: Json | undefined): string {
    const parsed = typeof value === 'string' ? Date.parse(value) : NaN;
    const age = Number.isNaN(parsed) ? 0 : Math.max(1000, this.reference - parsed);
    return isoSeconds(this.base - age);
  }

  finish(template: KubeletTemplate, slots: PodSlot[], t0: number, text: SegmentWriter): Layout {
    const count = this.kinds.length;
    const parent = new Int32Array(count).fill(-1);
    for (let i = 0; i < count; i++) {
      if (!this.aggregated[i]) continue;
      for (let e = this.seriesEntity[i]!.parent; e; e = e.parent) {
        const id = e.series.get(this.seriesKey[i]!);
        if (id !== undefined) {
          parent[i] = id;
          break;
        }
      }
    }
    const order = Int32Array.from({ length: count }, (_, i) => i).sort(
      (a, b) => this.levels[a]! - this.levels[b]! || a - b,
    );
    // The template's parent values include its children; what is left is the parent's own overhead.
    const childSum = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      const p = parent[i]!;
      if (p >= 0) childSum[p] = childSum[p]! + this.templateValues[i]!;
    }
    const own = Float64Array.from(this.templateValues, (v, i) =>
      childSum[i]! > 0 ? Math.max(v - childSum[i]!, 0.05 * v) : v,
    );
    const containerSeries = this.containerSlot.map(() => [] as number[]);
    for (let i = 0; i < count; i++) if (this.owners[i]! >= 0) containerSeries[this.owners[i]!]!.push(i);
    const cpu = template.node?.status?.capacity?.cpu;
    const cpuCores = cpu !== undefined ? Number.parseFloat(cpu) : NaN;
    const segments = text.finish();
    const encoded = segments.map((segment) => Buffer.from(segment));
    let end = 0;
    const segmentEnd = Int32Array.from(encoded, (bytes) => (end += bytes.length));
    return {
      template,
      slots,
      t0,
      segmentBytes: Buffer.concat(encoded),
      segmentEnd,
      holeKind: Uint8Array.from(text.kinds),
      holeArg: Int32Array.from(text.args),
      seriesKind: Uint8Array.from(this.kinds),
      seriesCategory: Uint8Array.from(this.categories),
      seriesLevel: Uint8Array.from(this.levels),
      seriesParent: parent,
      seriesOwner: Int32Array.from(this.owners),
      seriesOwnValue: own,
      order,
      derivedSource: Int32Array.from(this.derivedSource),
      derivedMul: Float64Array.from(this.derivedMul),
      derivedAdd: Float64Array.from(this.derivedAdd),
      containerSlot: Int32Array.from(this.containerSlot),
      containerName: this.containerName,
      containerInitialStart: this.containerStart,
      containerSeries: containerSeries.map((ids) => Int32Array.from(ids)),
      cpuCapacityNanoCores: (Number.isFinite(cpuCores) && cpuCores > 0 ? cpuCores : 8) * 1e9,
      values: new Float64Array(count),
      sums: new Float64Array(count),
      scratch: Buffer.alloc(0),
    };
  }
}

function newEntity(level: number, parent: Entity | undefined, container: number): Entity {
  return { level, parent, container, series: new Map() };
}

/** Serialises a skeleton to compact JSON, cutting the text at every hole. */
class SegmentWriter {
  private readonly segments: string[] = [];
  private current = '';
  readonly kinds: number[] = [];
  readonly args: number[] = [];

  emit(value: Skeleton): void {
    if (value instanceof Hole) {
      const quoted = value.kind >= HOLE_TIME;
      if (quoted) this.current += '"';
      this.segments.push(this.current);
      this.current = quoted ? '"' : '';
      this.kinds.push(value.kind);
      this.args.push(value.arg);
    } else if (Array.isArray(value)) {
      this.current += '[';
      value.forEach((item, i) => {
        if (i > 0) this.current += ',';
        this.emit(item);
      });
      this.current += ']';
    } else if (value !== null && typeof value === 'object') {
      this.current += '{';
      let first = true;
      for (const [key, item] of Object.entries(value)) {
        this.current += (first ? '' : ',') + JSON.stringify(key) + ':';
        first = false;
        this.emit(item);
      }
      this.current += '}';
    } else {
      this.current += JSON.stringify(value);
    }
  }

  finish(): string[] {
    this.segments.push(this.current);
    return this.segments;
  }
}
