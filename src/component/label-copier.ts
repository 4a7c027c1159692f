import { z } from 'zod';
import { LABEL } from '../model/labels.js';

/**
 * Copies a Kubernetes object's labels onto metric sets, as Heapster's label copier did (`util/label_copier.go`):
 * the `labels` label joins every `key:value` pair (sorted, ignore-list removed) with a separator, and an allow-list
 * copies chosen labels to labels of their own, optionally renamed (`new=old`).
 *
 * @example
 * const copier = new LabelCopier({ separator: ',', storeLabels: ['app', 'z=zone'], ignoreLabels: [] });
 * copier.labelsFor({ app: 'web', zone: 'a' }) // { labels: 'app:web,zone:a', app: 'web', z: 'a' }
 */
export class LabelCopier {
  /** [label name on the set, Kubernetes label name] pairs. */
  private readonly stored: readonly (readonly [string, string])[];
  private readonly ignored: ReadonlySet<string>;
  // Metadata caches hand out the same label objects until an object changes, so the result is computed
  // once per object version rather than once per set.
  private readonly cache = new WeakMap<object, Readonly<Record<string, string>>>();

  constructor(
    private readonly options: {
      readonly separator: string;
      readonly storeLabels: readonly string[];
      readonly ignoreLabels: readonly string[];
      /** Whether to emit the joined `labels` label; the namespace enricher only stores. */
      readonly joined?: boolean;
    },
  ) {
    this.stored = options.storeLabels.map(parseStoredLabel);
    this.ignored = new Set(options.ignoreLabels);
  }

  /** The labels to add to a set for an object with these Kubernetes labels. */
  labelsFor(objectLabels: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
    let out = this.cache.get(objectLabels);
    if (out !== undefined) return out;
    const built: Record<string, string> = {};
    if (this.options.joined !== false) {
      const pairs: string[] = [];
      for (const key of Object.keys(objectLabels)) {
        if (!this.ignored.has(key)) pairs.push(key + ':' + objectLabels[key]);
      }
      // Heapster sorted the `key:value` strings, not the keys; kept so that the tag values match.
      pairs.sort();
      if (pairs.length > 0) built[LABEL.labels] = pairs.join(this.options.separator);
    }
    for (const [as, name] of this.stored) {
      const value = objectLabels[name];
      if (value !== undefined) built[as] = value;
    }
    out = Object.freeze(built);
    this.cache.set(objectLabels, out);
    return out;
  }
}

function parseStoredLabel(entry: string): readonly [string, string] {
  const eq = entry.indexOf('=');
  return eq < 0 ? [entry, entry] : [entry.slice(0, eq), entry.slice(eq + 1)];
}

/** A `store_labels` entry: `name` or `new_name=name`. */
export const storedLabelEntry = z
  .string()
  .regex(/^[^=\s]+(=[^=\s]+)?$/, 'use "name" or "new_name=name"')
  .meta({
    description: 'A Kubernetes label to copy to its own label: `name`, or `new_name=name` to rename it.',
  });

/** The keys the pod and node enrichers share for copying labels. */
export const labelCopierKeys = {
  label_separator: z
    .string()
    .default(',')
    .meta({ description: 'Separator between the `key:value` pairs of the `labels` label.' }),
  store_labels: z
    .array(storedLabelEntry)
    .default([])
    .meta({ description: 'Labels copied to labels of their own, as `name` or `new_name=name`.' }),
  ignore_labels: z
    .array(z.string())
    .default([])
    .meta({ description: 'Labels left out of the joined `labels` label.' }),
};
