import { describe, expect, it } from 'vitest';
import fileSinkDefinition from '../index.js';

const table = {
  format: 'iceberg',
  catalog: { type: 'rest', uri: 'http://127.0.0.1:8181', credential_env: 'ICEBERG_CREDENTIAL' },
  namespace: 'metrics',
  name: 'sets',
};

function issues(config: Record<string, unknown>): string[] {
  const result = fileSinkDefinition.config.safeParse(config);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('the file sink table key', () => {
  it('takes an Iceberg REST catalog with storage defaults', () => {
    const result = fileSinkDefinition.config.safeParse({ path: 'staging', table });
    expect(result.success).toBe(true);
    expect(result.data?.table?.storage).toEqual({
      region: 'us-east-1',
      force_path_style: false,
      credentials: 'env',
    });
  });

  it('refuses a secret written inline, saying where it goes', () => {
    const found = issues({
      path: 'x',
      table: { ...table, catalog: { ...table.catalog, credential: 'a:b' } },
    });
    expect(found.some((m) => m.startsWith('table.catalog.credential: inline secrets are not accepted'))).toBe(
      true,
    );
  });

  it('refuses JSON Lines and retention with a table', () => {
    expect(issues({ path: 'x', format: 'jsonl', table })).toContain(
      'format: an Iceberg table takes Parquet files: format parquet',
    );
    expect(issues({ path: 'x', retention: '24h', table }).some((m) => m.startsWith('retention:'))).toBe(true);
  });

  it('names the key of an unknown catalog type', () => {
    expect(issues({ path: 'x', table: { ...table, catalog: { type: 'glue', uri: 'http://x' } } })[0]).toMatch(
      /^table\.catalog\.type:/,
    );
  });
});
