/**
 * Turns a row read back from the file sink's Iceberg table into the stdout sink's JSON shape for the same set
 * (`{time, type, key, labels, values, labeled}`), so the two can be compared whole, value by value.
 */
import { LABEL_COLUMNS, layoutFor } from '../../sinks/file/schema.js';

export interface SetLine {
  readonly time: string;
  readonly type: string;
  readonly key: string;
  readonly labels: Record<string, string>;
  readonly values: Record<string, number>;
  readonly labeled: { name: string; labels: Record<string, string>; value: number }[];
}

type Row = Record<string, unknown>;

const ALL = layoutFor('all');
const METRIC_OF = new Map(ALL.metrics.map((m) => [m.column, m.metric]));

/** Labeled values in one order, so that lists from either side compare equal whatever order they came in. */
export function sortLabeled(line: SetLine): SetLine {
  const labeled = [...line.labeled].sort((a, b) =>
    JSON.stringify(a) < JSON.stringify(b) ? -1 : JSON.stringify(a) > JSON.stringify(b) ? 1 : 0,
  );
  return { ...line, labeled };
}

/** The stdout line a table row stands for. Null columns are absent values, as stdout leaves them out. */
export function rowToLine(row: Row): SetLine {
  const labels: Record<string, string> = { ...((row['labels'] as Record<string, string> | null) ?? {}) };
  labels['type'] = row['type'] as string;
  for (const c of LABEL_COLUMNS) {
    const value = row[c.column];
    if (typeof value === 'string') labels[c.label] = value;
  }
  const values: Record<string, number> = {};
  for (const [column, metric] of METRIC_OF) {
    const value = row[column];
    if (typeof value === 'number') values[metric] = value;
  }
  for (const [name, value] of Object.entries((row['other_values'] as Record<string, number> | null) ?? {})) {
    values[name] = value;
  }
  const labeled: SetLine['labeled'] = [];
  for (const family of ALL.families) {
    for (const struct of (row[family.column] as Row[] | null) ?? []) {
      const keys: Record<string, string> = {};
      for (const k of family.keyLabels) keys[k] = struct[k] as string;
      for (const field of family.fields) {
        const value = struct[field.column];
        if (typeof value === 'number') labeled.push({ name: field.metric, labels: keys, value });
      }
    }
  }
  for (const other of (row['other_labeled'] as Row[] | null) ?? []) {
    labeled.push({
      name: other['name'] as string,
      labels: (other['labels'] as Record<string, string> | null) ?? {},
      value: other['value'] as number,
    });
  }
  return sortLabeled({
    time: row['time'] as string,
    type: row['type'] as string,
    key: row['key'] as string,
    labels,
    values,
    labeled,
  });
}

/** Lines in one order: by time, then key. */
export function byTimeAndKey(lines: readonly SetLine[]): SetLine[] {
  const id = (l: SetLine): string => `${l.time} ${l.key}`;
  return [...lines].sort((a, b) => (id(a) < id(b) ? -1 : id(a) > id(b) ? 1 : 0));
}
