import type { OperatorFunction } from 'rxjs';
import type { ComponentContext } from '../../src/component/component.js';
import { mapBatches, reportBatchErrors, statefulOperator } from '../../src/component/operators.js';
import { LABEL } from '../../src/model/labels.js';
import type { LabeledValue, MetricBatch, MetricSet, PipelineEvent } from '../../src/model/types.js';
import { owned } from '../../src/model/owned.js';
import type { FilterConfig, FilterCriteria } from './config.js';

/** Metric names, compiled: a set lookup for exact names, a short list of prefixes for `name*`. */
interface NameMatcher {
  readonly exact: ReadonlySet<string>;
  readonly prefixes: readonly string[];
}

function nameMatcher(patterns: readonly string[]): NameMatcher {
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const p of patterns) {
    if (p.endsWith('*')) prefixes.push(p.slice(0, -1));
    else exact.add(p);
  }
  return { exact, prefixes };
}

function matchesName(m: NameMatcher, name: string): boolean {
  if (m.exact.has(name)) return true;
  for (const prefix of m.prefixes) if (name.startsWith(prefix)) return true;
  return false;
}

/** Set-level criteria, compiled. */
interface SetMatcher {
  readonly types: ReadonlySet<string> | undefined;
  readonly namespaces: ReadonlySet<string> | undefined;
  readonly labels: readonly (readonly [string, string])[] | undefined;
}

function setMatcher(c: FilterCriteria | undefined): SetMatcher | undefined {
  if (c === undefined || (c.types === undefined && c.namespaces === undefined && c.labels === undefined)) {
    return undefined;
  }
  return {
    types: c.types === undefined ? undefined : new Set(c.types.map((t) => (t === 'namespace' ? 'ns' : t))),
    namespaces: c.namespaces === undefined ? undefined : new Set(c.namespaces),
    labels: c.labels?.map((kv) => {
      const eq = kv.indexOf('=');
      return [kv.slice(0, eq), kv.slice(eq + 1)] as const;
    }),
  };
}

function hasLabel(set: MetricSet, labels: readonly (readonly [string, string])[]): boolean {
  for (const [k, v] of labels) if (set.labels[k] === v) return true;
  return false;
}

function namespaceIn(set: MetricSet, namespaces: ReadonlySet<string>): boolean {
  const ns = set.labels[LABEL.namespaceName];
  return ns !== undefined && namespaces.has(ns);
}

/** Every list given matches (include). */
function matchesAll(m: SetMatcher, set: MetricSet): boolean {
  return (
    (m.types === undefined || m.types.has(set.type)) &&
    (m.namespaces === undefined || namespaceIn(set, m.namespaces)) &&
    (m.labels === undefined || hasLabel(set, m.labels))
  );
}

/** Some list given matches (exclude). */
function matchesAny(m: SetMatcher, set: MetricSet): boolean {
  return (
    (m.types !== undefined && m.types.has(set.type)) ||
    (m.namespaces !== undefined && namespaceIn(set, m.namespaces)) ||
    (m.labels !== undefined && hasLabel(set, m.labels))
  );
}

/** Metric names ever seen are few (the catalogue plus custom metrics): decisions are remembered, up to a bound. */
const MAX_REMEMBERED_NAMES = 10_000;

/**
 * Keeps or drops sets by type, namespace and label, and metrics by name (exact or `prefix*`).
 *
 * @example
 * events$.pipe(filterOperator({ exclude: { namespaces: ['kube-system'], metrics: ['filesystem/*'] } }, ctx))
 */
export function filterOperator(
  config: FilterConfig,
  ctx: ComponentContext,
): OperatorFunction<PipelineEvent, PipelineEvent> {
  const include = setMatcher(config.include);
  const exclude = setMatcher(config.exclude);
  const includeMetrics =
    config.include?.metrics === undefined ? undefined : nameMatcher(config.include.metrics);
  const excludeMetrics =
    config.exclude?.metrics === undefined ? undefined : nameMatcher(config.exclude.metrics);
  const filtersMetrics = includeMetrics !== undefined || excludeMetrics !== undefined;
  const onError = reportBatchErrors(ctx);

  return statefulOperator(
    () => new Map<string, boolean>(),
    (decisions) => {
      function keepMetric(name: string): boolean {
        let keep = decisions.get(name);
        if (keep === undefined) {
          keep =
            (includeMetrics === undefined || matchesName(includeMetrics, name)) &&
            (excludeMetrics === undefined || !matchesName(excludeMetrics, name));
          if (decisions.size < MAX_REMEMBERED_NAMES) decisions.set(name, keep);
        }
        return keep;
      }

      /** The set with only the kept metrics; the same set when all are kept; undefined when none is left. */
      /**
       * The set with only the kept metrics, filtered in place (the set is this processor's: docs/plugins.md);
       * undefined when none is left.
       */
      function filterMetrics(set: MetricSet): MetricSet | undefined {
        const target = owned(set);
        for (const name of set.values.names()) if (!keepMetric(name)) target.values.delete(name);
        let labeled: LabeledValue[] | undefined;
        for (let i = 0; i < set.labeled.length; i++) {
          const lv = set.labeled[i] as LabeledValue;
          if (keepMetric(lv.name)) labeled?.push(lv);
          else labeled ??= set.labeled.slice(0, i);
        }
        if (labeled !== undefined) target.labeled = labeled;
        return target.values.size === 0 && target.labeled.length === 0 ? undefined : set;
      }

      function filterBatch(batch: MetricBatch): MetricBatch {
        let out: MetricSet[] | undefined;
        const sets = batch.sets;
        for (let i = 0; i < sets.length; i++) {
          const set = sets[i] as MetricSet;
          let result: MetricSet | undefined = set;
          if (
            (include !== undefined && !matchesAll(include, set)) ||
            (exclude !== undefined && matchesAny(exclude, set))
          ) {
            result = undefined;
          } else if (filtersMetrics) {
            result = filterMetrics(set);
          }
          if (result !== set) out ??= sets.slice(0, i);
          if (result !== undefined) out?.push(result);
        }
        return out === undefined ? batch : { ...batch, sets: out };
      }

      return mapBatches(filterBatch, onError);
    },
  );
}
