/**
 * The one place where every component's counters live. The `/metrics` endpoint exports these; tests read them.
 * Names follow Prometheus conventions (`heapstream_…_total`).
 *
 * @example
 * ctx.telemetry.counter('heapstream_scrape_errors_total', { node: 'n1', reason: 'timeout' }).inc();
 */
export type TelemetryLabels = Readonly<Record<string, string>>;

export interface Counter {
  inc(by?: number): void;
}

export interface Gauge {
  set(value: number): void;
  inc(by?: number): void;
  dec(by?: number): void;
}

export interface Histogram {
  observe(value: number): void;
}

interface Series {
  readonly name: string;
  readonly labels: TelemetryLabels;
  value: number;
  /** Histograms keep their observations' count and sum, plus bucket counts. */
  count?: number;
  sum?: number;
  buckets?: number[];
}

export interface TelemetrySample {
  readonly name: string;
  readonly kind: 'counter' | 'gauge' | 'histogram';
  readonly labels: TelemetryLabels;
  readonly value: number;
  readonly count?: number;
  readonly sum?: number;
  readonly buckets?: readonly { le: number; count: number }[];
}

export const DEFAULT_SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

function seriesId(name: string, labels: TelemetryLabels): string {
  // Called once per counter lookup, not per metric value: components keep the handle they get.
  let id = name;
  for (const k of Object.keys(labels).sort()) id += '\u0000' + k + '=' + labels[k];
  return id;
}

export class Telemetry {
  private readonly series = new Map<string, Series & { kind: TelemetrySample['kind'] }>();
  private readonly bucketBounds = new Map<string, readonly number[]>();
  private readonly help = new Map<string, string>();

  describe(name: string, help: string): void {
    this.help.set(name, help);
  }

  helpOf(name: string): string | undefined {
    return this.help.get(name);
  }

  counter(name: string, labels: TelemetryLabels = {}): Counter {
    const s = this.get(name, labels, 'counter');
    return {
      inc: (by = 1) => {
        s.value += by;
      },
    };
  }

  gauge(name: string, labels: TelemetryLabels = {}): Gauge {
    const s = this.get(name, labels, 'gauge');
    return {
      set: (v) => {
        s.value = v;
      },
      inc: (by = 1) => {
        s.value += by;
      },
      dec: (by = 1) => {
        s.value -= by;
      },
    };
  }

  histogram(name: string, labels: TelemetryLabels = {}, buckets = DEFAULT_SECONDS_BUCKETS): Histogram {
    if (!this.bucketBounds.has(name)) this.bucketBounds.set(name, buckets);
    const bounds = this.bucketBounds.get(name) ?? buckets;
    const s = this.get(name, labels, 'histogram');
    s.count ??= 0;
    s.sum ??= 0;
    s.buckets ??= bounds.map(() => 0);
    return {
      observe: (v) => {
        s.count = (s.count ?? 0) + 1;
        s.sum = (s.sum ?? 0) + v;
        const b = s.buckets as number[];
        for (let i = 0; i < bounds.length; i++) if (v <= (bounds[i] as number)) b[i] = (b[i] as number) + 1;
      },
    };
  }

  /** The current value of one series (0 if it was never touched): what tests and health checks read. */
  value(name: string, labels: TelemetryLabels = {}): number {
    return this.series.get(seriesId(name, labels))?.value ?? 0;
  }

  /** Sum of a metric over every label combination that includes `labels`. */
  total(name: string, labels: TelemetryLabels = {}): number {
    let sum = 0;
    for (const s of this.series.values()) {
      if (s.name !== name) continue;
      let match = true;
      for (const [k, v] of Object.entries(labels)) if (s.labels[k] !== v) match = false;
      if (match) sum += s.kind === 'histogram' ? (s.count ?? 0) : s.value;
    }
    return sum;
  }

  snapshot(): TelemetrySample[] {
    return [...this.series.values()].map((s) => {
      const bounds = this.bucketBounds.get(s.name) ?? [];
      return {
        name: s.name,
        kind: s.kind,
        labels: s.labels,
        value: s.value,
        ...(s.count === undefined ? {} : { count: s.count, sum: s.sum ?? 0 }),
        ...(s.buckets === undefined
          ? {}
          : { buckets: s.buckets.map((count, i) => ({ le: bounds[i] ?? Infinity, count })) }),
      };
    });
  }

  private get(name: string, labels: TelemetryLabels, kind: TelemetrySample['kind']) {
    const id = seriesId(name, labels);
    let s = this.series.get(id);
    if (s === undefined) {
      s = { name, labels: { ...labels }, value: 0, kind };
      this.series.set(id, s);
    }
    return s;
  }
}
