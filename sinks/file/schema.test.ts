import { describe, expect, it } from 'vitest';
import { CATALOGUE } from '../../src/model/catalogue.js';
import type { MetricSet } from '../../src/model/types.js';
import { parquetSchema } from './parquet-columns.js';
import { splitSet } from './rows.js';
import { SET_TYPES } from '../../src/model/catalogue.js';
import { columnName, layoutFor } from './schema.js';
import { SetValues } from '../../src/model/set-values.js';

describe('file sink schema', () => {
  it('gives every unlabeled catalogue metric a distinct column with the catalogue value type', () => {
    const all = layoutFor('all');
    const unlabeled = CATALOGUE.filter((m) => !m.labeled);
    expect(all.metrics.map((m) => m.metric)).toEqual(unlabeled.map((m) => m.name));
    expect(new Set(all.metrics.map((m) => m.column)).size).toBe(all.metrics.length);
    for (const m of all.metrics)
      expect(m.valueType).toBe(CATALOGUE.find((c) => c.name === m.metric)?.valueType);
    // Every labeled catalogue metric has a field in one of the families.
    const fields = all.families.flatMap((f) => f.fields.map((x) => x.metric));
    expect(fields.sort()).toEqual(
      CATALOGUE.filter((m) => m.labeled)
        .map((m) => m.name)
        .sort(),
    );
  });

  it('gives node-only metrics to nodes and aggregates to namespaces', () => {
    expect(layoutFor('node').metricIndex.has('cpu/node_allocatable')).toBe(true);
    expect(layoutFor('pod').metricIndex.has('cpu/node_allocatable')).toBe(false);
    expect(layoutFor('ns').metricIndex.has('cpu/usage')).toBe(false);
    expect(layoutFor('ns').metricIndex.has('cpu/usage_rate')).toBe(true);
    expect(layoutFor('ns').families).toEqual([]);
    for (const t of SET_TYPES) expect(layoutFor(t).metrics.length).toBeGreaterThan(5);
  });

  it('keeps column names stable (schema version 1)', () => {
    const names = parquetSchema(layoutFor('pod_container')).map((e) => e.name);
    expect(names.slice(0, 17)).toEqual([
      'root',
      'time',
      'batch_time',
      'start_time',
      'type',
      'key',
      'node',
      'namespace',
      'pod',
      'container',
      'pod_uid',
      'workload_kind',
      'workload_name',
      'labels',
      'key_value',
      'key',
      'value',
    ]);
    expect(names).toContain('cpu_usage_rate');
    expect(names).toContain('memory_working_set');
    expect(columnName('ephemeral_storage/usage')).toBe('ephemeral_storage_usage');
  });

  it('groups labeled values per object and sends the rest to other_* columns', () => {
    const rootFs = { resource_id: '/' };
    const set: MetricSet = {
      type: 'pod_container',
      key: 'namespace:a/pod:b/container:c',
      labels: {
        type: 'pod_container',
        namespace_name: 'a',
        pod_name: 'b',
        container_name: 'c',
        container_base_image: 'img',
      },
      values: SetValues.from({ 'cpu/usage': 5, 'custom/q': 1.5 }),
      labeled: [
        { name: 'filesystem/usage', labels: rootFs, value: 10 },
        { name: 'filesystem/limit', labels: { resource_id: '/' }, value: 100 },
        { name: 'filesystem/usage', labels: { resource_id: 'logs' }, value: 3 },
        { name: 'filesystem/usage', labels: { resource_id: '/', device: 'sda' }, value: 7 },
        {
          name: 'accelerator/duty_cycle',
          labels: { make: 'nvidia', model: 'T4', accelerator_id: 'GPU-1' },
          value: 40,
        },
      ],
      scrapeTime: 1,
      startTime: 0,
    };
    const parts = splitSet(set, layoutFor('pod_container'));
    expect(parts.labels).toEqual([{ key: 'container_base_image', value: 'img' }]);
    expect(parts.otherValues).toEqual([{ key: 'custom/q', value: 1.5 }]);
    const [filesystems, disks, accelerators] = parts.families;
    expect(filesystems).toEqual([
      { keys: ['/'], values: [10, 100, undefined, undefined, undefined] },
      { keys: ['logs'], values: [3, undefined, undefined, undefined, undefined] },
    ]);
    expect(disks).toEqual([]);
    expect(accelerators).toEqual([{ keys: ['nvidia', 'T4', 'GPU-1'], values: [undefined, undefined, 40] }]);
    expect(parts.otherLabeled).toEqual([set.labeled[3]]);
  });
});
