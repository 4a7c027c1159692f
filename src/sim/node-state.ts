import {
  CATEGORY_CPU,
  CATEGORY_MAJOR_PAGE_FAULTS,
  CATEGORY_NET_RX,
  CATEGORY_NET_TX,
  CATEGORY_PAGE_FAULTS,
  CATEGORY_PSI_CPU,
  HOLE_CONTAINER_START,
  HOLE_LINEAR,
  HOLE_NANOCORES,
  HOLE_NODE_NAME,
  HOLE_POD_NAME,
  HOLE_POD_UID,
  HOLE_TIME,
  HOLE_VALUE,
  LEVEL_CONTAINER,
  LEVEL_NODE,
  LEVEL_POD,
  LEVEL_PODS_SYSTEM_CONTAINER,
  SERIES_COUNTER,
  type Layout,
} from './layout.js';
import { isoSeconds } from '../model/iso-time.js';
import { logUniform, seededRandom, seededUuid, uniform, type Random } from './random.js';

/** Memory moves by up to this fraction of its centre per scrape, within ±50 % of the centre. */
const WALK_STEP = 0.03;

/** Room for any numeric hole (a safe integer has at most 16 digits, plus sign) or an RFC 3339 time. */
const MAX_HOLE_BYTES = 32;

/** Segments between holes are short (a few dozen bytes): a loop beats a native copy call for them. */
const SHORT_COPY = 64;

function copyBytes(source: Buffer, start: number, end: number, target: Buffer, pos: number): number {
  if (end - start > SHORT_COPY) return pos + source.copy(target, pos, start, end);
  for (let i = start; i < end; i++) target[pos++] = source[i]!;
  return pos;
}

/** Decimal digits of a non-negative safe integer, without making a string. */
function writeInteger(target: Buffer, pos: number, value: number): number {
  if (!(value >= 10)) {
    target[pos] = value > 0 ? 48 + value : 48; // 0…9, and 0 for anything that is not a positive number
    return pos + 1;
  }
  let digits = 0;
  for (let v = value; v >= 1; v = Math.floor(v / 10)) digits++;
  let end = pos + digits;
  for (let v = value; end > pos; v = Math.floor(v / 10)) target[--end] = 48 + (v % 10);
  return pos + digits;
}

/** Short ASCII text (times, names) into the buffer. */
function writeAscii(target: Buffer, pos: number, text: string): number {
  for (let i = 0; i < text.length; i++) target[pos++] = text.charCodeAt(i);
  return pos;
}

export interface NodeStateOptions {
  readonly name: string;
  /** Appended to pod names (`<pod>-<suffix>`) so that pod names are unique across the cluster, as in Kubernetes. */
  readonly podSuffix: string;
  readonly seed: number;
  readonly stream: number;
  /** Mean scrapes between restarts of one container; 0 = never. */
  readonly restartEvery: number;
}

/**
 * One simulated kubelet's changing state: its names, per-series rates and walks, container restarts. `render`
 * fills the shared layout's holes for a sample time; it allocates nothing per value but the output string.
 *
 * @example
 * const node = new NodeState(layout, { name: 'sim-node-001', podSuffix: '001', seed: 1, stream: 0, restartEvery: 200 });
 * const body = node.render(Date.now());
 */
export class NodeState {
  readonly name: string;
  readonly podNames: readonly string[];
  readonly podUids: readonly string[];
  /** Restarts per container since the start, indexed like the layout's containers. */
  readonly restarts: Int32Array;
  private readonly rng: Random;
  private readonly restartProbability: number;
  /** Counter: value at origin. Walk: current own value. Float32 halves the memory of 5,000 large nodes. */
  private readonly base: Float32Array;
  /** Counter: growth per second. Walk: centre. */
  private readonly rate: Float32Array;
  private readonly containerOrigin: Float64Array;
  private readonly containerStart: string[];
  private restartListener: ((container: number) => void) | undefined;
  /** The longest name written into a hole, to size the output buffer. */
  private readonly longestName: number;

  constructor(
    readonly layout: Layout,
    options: NodeStateOptions,
  ) {
    this.name = options.name;
    this.rng = seededRandom(options.seed, options.stream);
    this.restartProbability = options.restartEvery > 0 ? 1 / options.restartEvery : 0;
    const templatePods = layout.template.summary.pods;
    const templateNode = layout.template.summary.node.nodeName;
    this.podNames = layout.slots.map((slot) => {
      const name = templatePods[slot.templatePod]!.podRef.name;
      if (slot.isStatic) return name.replace(templateNode, options.name);
      return slot.replica > 0
        ? `${name}-${slot.replica}-${options.podSuffix}`
        : `${name}-${options.podSuffix}`;
    });
    this.podUids = layout.slots.map(() => seededUuid(this.rng));
    this.longestName = Math.max(this.name.length, ...this.podNames.map((n) => n.length), 36);
    this.restarts = new Int32Array(layout.containerSlot.length);
    this.containerOrigin = new Float64Array(layout.containerSlot.length).fill(layout.t0);
    this.containerStart = [...layout.containerInitialStart];
    const count = layout.seriesKind.length;
    this.base = new Float32Array(count);
    this.rate = new Float32Array(count);
    this.initialiseSeries();
  }

  /** Called with the container index whenever a container restarts (the metadata view drops its cached pod). */
  onRestart(listener: (container: number) => void): void {
    this.restartListener = listener;
  }

  /** Start time (RFC 3339) of a container, which changes when it restarts. */
  containerStartTime(container: number): string {
    return this.containerStart[container]!;
  }

  /** The /stats/summary body at sample time `t` (ms), as text. */
  render(t: number): string {
    return this.renderBuffer(t).toString();
  }

  /**
   * The /stats/summary body at sample time `t` (ms), as bytes ready to send. Written straight into a buffer:
   * concatenating thousands of small strings is cheap, but flattening and encoding the result cost four times
   * the rendering itself.
   */
  renderBuffer(t: number): Buffer {
    this.advance(t);
    const L = this.layout;
    const values = L.values;
    const kinds = L.holeKind;
    const args = L.holeArg;
    const segments = L.segmentBytes;
    const ends = L.segmentEnd;
    let out = L.scratch;
    const bound = ends[ends.length - 1]! + kinds.length * (MAX_HOLE_BYTES + this.longestName);
    if (out.length < bound) out = L.scratch = Buffer.allocUnsafe(bound);
    const time = new Date(t).toISOString();
    // One noise factor per scrape, so that containers still add up to their pod and pods to the node.
    const cpuNoise = 0.9 + 0.2 * this.rng();
    let pos = copyBytes(segments, 0, ends[0]!, out, 0);
    for (let h = 0; h < kinds.length; h++) {
      const arg = args[h]!;
      switch (kinds[h]) {
        case HOLE_VALUE:
          pos = writeInteger(out, pos, Math.floor(values[arg]!));
          break;
        case HOLE_LINEAR: {
          const v = values[L.derivedSource[arg]!]! * L.derivedMul[arg]! + L.derivedAdd[arg]!;
          pos = writeInteger(out, pos, v > 0 ? Math.round(v) : 0);
          break;
        }
        case HOLE_NANOCORES:
          pos = writeInteger(out, pos, Math.round(this.rate[L.derivedSource[arg]!]! * cpuNoise));
          break;
        case HOLE_TIME:
          pos = writeAscii(out, pos, time);
          break;
        case HOLE_NODE_NAME:
          pos = writeAscii(out, pos, this.name);
          break;
        case HOLE_POD_NAME:
          pos += out.write(this.podNames[arg]!, pos, 'latin1');
          break;
        case HOLE_POD_UID:
          pos += out.write(this.podUids[arg]!, pos, 'latin1');
          break;
        case HOLE_CONTAINER_START:
          pos = writeAscii(out, pos, this.containerStart[arg]!);
          break;
      }
      pos = copyBytes(segments, ends[h]!, ends[h + 1]!, out, pos);
    }
    // The scratch is reused by the next render; the response needs its own copy.
    return Buffer.from(out.subarray(0, pos));
  }

  /** Restarts due at `t`, then every series' value at `t` into the layout's scratch `values`. */
  private advance(t: number): void {
    const L = this.layout;
    if (this.restartProbability > 0) {
      for (let c = 0; c < this.containerOrigin.length; c++) {
        if (this.rng() < this.restartProbability) this.restart(c, t);
      }
    }
    const values = L.values;
    const sums = L.sums;
    sums.fill(0);
    const order = L.order;
    for (let k = 0; k < order.length; k++) {
      const i = order[k]!;
      if (L.seriesKind[i] === SERIES_COUNTER) {
        const owner = L.seriesOwner[i]!;
        const elapsed = t - (owner >= 0 ? this.containerOrigin[owner]! : L.t0);
        values[i] = this.base[i]! + (this.rate[i]! * (elapsed > 0 ? elapsed : 0)) / 1000;
      } else {
        const centre = this.rate[i]!;
        let own = this.base[i]! + centre * WALK_STEP * (2 * this.rng() - 1);
        if (own < centre * 0.5) own = centre * 0.5;
        else if (own > centre * 1.5) own = centre * 1.5;
        this.base[i] = own;
        const value = own + sums[i]!;
        values[i] = value;
        const parent = L.seriesParent[i]!;
        if (parent >= 0) sums[parent] = sums[parent]! + value;
      }
    }
  }

  /** A container restart: new start time, its counters start again from (almost) zero, its memory drops. */
  private restart(container: number, t: number): void {
    // Restarted a moment ago: the counters hold a fraction of a second's worth, well below any earlier value.
    const start = t - 200;
    this.containerOrigin[container] = start;
    this.containerStart[container] = isoSeconds(start);
    this.restarts[container] = this.restarts[container]! + 1;
    for (const i of this.layout.containerSeries[container]!) {
      this.base[i] = this.layout.seriesKind[i] === SERIES_COUNTER ? 0 : this.rate[i]! * 0.5;
    }
    this.restartListener?.(container);
  }

  private initialiseSeries(): void {
    const L = this.layout;
    const rng = this.rng;
    const count = L.seriesKind.length;
    let containerCpu = 0;
    for (let i = 0; i < count; i++) {
      const own = L.seriesOwnValue[i]!;
      if (L.seriesKind[i] === SERIES_COUNTER) {
        this.base[i] = own * uniform(rng, 0.5, 1.5);
        this.rate[i] = ownRate(L.seriesCategory[i]!, L.seriesLevel[i]!, rng);
        if (L.seriesCategory[i] === CATEGORY_CPU && L.seriesLevel[i] === LEVEL_CONTAINER)
          containerCpu += this.rate[i]!;
      } else {
        const centre = Math.max(own * uniform(rng, 0.7, 1.3), 1 << 20);
        this.rate[i] = centre;
        this.base[i] = centre * uniform(rng, 0.8, 1.2);
      }
    }
    // Keep containers under ~60 % of the node's CPUs, however many pods it runs.
    const scale =
      containerCpu > 0.6 * L.cpuCapacityNanoCores ? (0.6 * L.cpuCapacityNanoCores) / containerCpu : 1;
    for (let k = 0; k < count; k++) {
      const i = L.order[k]!;
      if (L.seriesKind[i] !== SERIES_COUNTER) continue;
      if (scale !== 1 && L.seriesCategory[i] === CATEGORY_CPU && L.seriesLevel[i] === LEVEL_CONTAINER) {
        this.rate[i] = this.rate[i]! * scale;
      }
      // Counters of a parent grow by the sum of its children's rates plus its own, so pods add up to the node.
      const parent = L.seriesParent[i]!;
      if (parent >= 0) {
        this.rate[parent] = this.rate[parent]! + this.rate[i]!;
        this.base[parent] = this.base[parent]! + this.base[i]!;
      }
    }
  }
}

/** The object's own growth per second; parents add their children's on top. */
function ownRate(category: number, level: number, rng: Random): number {
  switch (category) {
    case CATEGORY_CPU: // nanocores: 5–800 millicores per container
      if (level === LEVEL_CONTAINER) return logUniform(rng, 5e6, 8e8);
      if (level === LEVEL_POD) return logUniform(rng, 1e5, 2e6);
      if (level === LEVEL_PODS_SYSTEM_CONTAINER) return 0;
      if (level === LEVEL_NODE) return logUniform(rng, 5e7, 3e8);
      return logUniform(rng, 1e7, 1.5e8);
    case CATEGORY_NET_RX: // bytes/s
      return level === LEVEL_POD ? logUniform(rng, 1e3, 5e6) : logUniform(rng, 1e3, 1e5);
    case CATEGORY_NET_TX:
      return level === LEVEL_POD ? logUniform(rng, 5e2, 2e6) : logUniform(rng, 1e3, 1e5);
    case CATEGORY_PAGE_FAULTS: // faults/s
      if (level === LEVEL_CONTAINER) return logUniform(rng, 1, 2000);
      if (level === LEVEL_PODS_SYSTEM_CONTAINER) return 0;
      if (level === LEVEL_NODE) return logUniform(rng, 100, 5000);
      return logUniform(rng, 0.1, 5);
    case CATEGORY_MAJOR_PAGE_FAULTS:
      return level === LEVEL_NODE ? uniform(rng, 0, 0.5) : uniform(rng, 0, 0.05);
    case CATEGORY_PSI_CPU: // stalled µs/s
      return logUniform(rng, 10, 1e5);
    default: // memory and io pressure: mostly none
      return rng() < 0.8 ? 0 : logUniform(rng, 1, 1e3);
  }
}
