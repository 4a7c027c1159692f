import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HOSTILE_PAYLOADS, hostileBody } from '../../src/sim/hostile.js';
import { buildLayout } from '../../src/sim/layout.js';
import { NodeState } from '../../src/sim/node-state.js';
import { loadTemplate, TEMPLATE_NAMES } from '../../src/sim/template.js';
import { expectSameAsJsonParse } from '../../test/support/summary-parity.js';

/** Every /stats/summary capture, shared and the repository's own copies. */
function captures(): [string, Buffer][] {
  const found: [string, Buffer][] = [];
  for (const base of ['../../../shared/fixtures/kubelet/', '../../fixtures/kubelet/']) {
    const dir = new URL(base, import.meta.url);
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      for (const file of readdirSync(new URL(`${entry.name}/`, dir))) {
        if (!/^stats-summary.*\.json$/.test(file)) continue;
        found.push([`${base}${entry.name}/${file}`, readFileSync(new URL(`${entry.name}/${file}`, dir))]);
      }
    }
  }
  return found;
}

const T0 = Date.parse('2026-01-01T00:00:00Z');

/** A simulated node's /stats/summary at its second scrape, as text. */
function rendered(template: string, pods: number): string {
  const state = new NodeState(buildLayout(loadTemplate(template), pods, T0), {
    name: 'sim-node-001',
    podSuffix: '001',
    seed: 1,
    stream: 0,
    restartEvery: 0,
  });
  state.render(T0 + 15_000);
  return state.render(T0 + 30_000);
}

describe('decodeSummaryBytes gives what JSON.parse + decodeSummary gives', () => {
  const all = captures();

  it('finds the captures', () => {
    expect(all.length).toBeGreaterThanOrEqual(17);
  });

  it.each(all)('%s', (_name, bytes) => {
    const sets = expectSameAsJsonParse(bytes, { name: 'n1', hostname: 'h1', hostId: 'i-1' });
    expect(sets?.length).toBeGreaterThan(3);
  });

  it.each(all)('%s, compact and indented by 2', (_name, bytes) => {
    const document: unknown = JSON.parse(bytes.toString('utf8'));
    expectSameAsJsonParse(Buffer.from(JSON.stringify(document)), { name: 'n1' });
    expectSameAsJsonParse(Buffer.from(JSON.stringify(document, null, 2)), { name: 'n1' });
  });

  it.each(TEMPLATE_NAMES)('a simulated node of 30 pods from %s', (template) => {
    expectSameAsJsonParse(Buffer.from(rendered(template, 30)), { name: 'sim-node-001' });
  });

  const hostile = HOSTILE_PAYLOADS.filter((payload) => payload !== 'endless');
  it.each(hostile)('the simulator\'s hostile payload "%s"', (payload) => {
    const body = hostileBody(payload, 'summary', rendered('nri-1.24', 8), 300);
    expectSameAsJsonParse(Buffer.from(body), { name: 'sim-node-001' });
  });

  it('the hostile "huge" payload past max_sets_per_node: too_large, with the same message', () => {
    // 1,200 pods (the simulator's default of 6,000 took seconds per decode on a loaded machine): over a limit of
    // 1,000 pods, over 2,000 sets (pods and containers), and within 100,000.
    const body = Buffer.from(hostileBody('huge', 'summary', rendered('nri-1.24', 8), 1_200));
    expect(expectSameAsJsonParse(body, { name: 'sim-node-001' }, 1_000)).toBeUndefined();
    expect(expectSameAsJsonParse(body, { name: 'sim-node-001' }, 2_000)).toBeUndefined();
    expect(expectSameAsJsonParse(body, { name: 'sim-node-001' }, 100_000)?.length).toBeGreaterThan(2_400);
  }, 30_000);

  it('the hostile "endless" body, cut off: not valid JSON, with the same message', () => {
    const body = Buffer.from(`{"node":{"nodeName":"${'x'.repeat(100)}`);
    expect(expectSameAsJsonParse(body, { name: 'sim-node-001' })).toBeUndefined();
  });

  it.each([
    ['a payload that is not JSON', '<html>503</html>'],
    ['a truncated payload', '{"node":{"nodeName":"n1","cpu":{"usageCoreNanoSeconds":12'],
    ['a number JSON rejects', '{"node":{"nodeName":"n1","cpu":{"usageCoreNanoSeconds":012}}}'],
    ['trailing garbage', '{"node":{"nodeName":"n1"}} x'],
    [
      'a duplicate key: the last wins',
      '{"node":{"nodeName":"a","cpu":{"usageCoreNanoSeconds":1},"cpu":{"time":null},"nodeName":"n1"}}',
    ],
    [
      'duplicate pods keys',
      '{"pods":[{"podRef":{"name":"p","namespace":"ns"}}],"node":{"nodeName":"n1"},"pods":[]}',
    ],
    [
      'pods before node',
      '{"pods":[{"podRef":{"name":"p","namespace":"ns"},"containers":[{"name":"c"}]}],"node":{"nodeName":"n1"}}',
    ],
    ['keys with escapes', '{"no\\u0064e":{"node\\u004eame":"n\\u00e91","cpu":{"usageCoreNanoSeconds":5}}}'],
    ['a string where an object belongs', '{"node":{"nodeName":"n1","cpu":"busy"}}'],
    [
      'an object where a number belongs',
      '{"node":{"nodeName":"n1","cpu":{"usageCoreNanoSeconds":{"a":[1]}}}}',
    ],
    ['the root an array', '[{"node":{"nodeName":"n1"}}]'],
    ['the root null', 'null'],
    ['a fractional counter', '{"node":{"nodeName":"n1","cpu":{"usageCoreNanoSeconds":1.5}}}'],
    [
      'uint64 sentinels and 1e999',
      '{"node":{"nodeName":"n1","fs":{"capacityBytes":18446744073709551615,"usedBytes":1e999}}}',
    ],
    [
      '-0 and exponents',
      '{"node":{"nodeName":"n1","cpu":{"usageCoreNanoSeconds":-0},"memory":{"usageBytes":1e3}}}',
    ],
    ['a bad time', '{"node":{"nodeName":"n1","startTime":"yesterday"}}'],
    ['a BOM', '\ufeff{"node":{"nodeName":"n1"}}'],
    [
      'invalid UTF-8 in a name',
      Buffer.concat([Buffer.from('{"node":{"nodeName":"n'), Buffer.from([0xc3, 0x28]), Buffer.from('"}}')]),
    ],
  ])('%s', (_name, text) => {
    expectSameAsJsonParse(Buffer.isBuffer(text) ? text : Buffer.from(text), { name: 'n1' });
  });

  it('an older duplicate container is dropped unread: its bad and out-of-range values are not looked at', () => {
    const text = JSON.stringify({
      node: { nodeName: 'n1' },
      pods: [
        {
          podRef: { name: 'p', namespace: 'ns' },
          containers: [
            { name: 'c', startTime: '2020-01-01T00:05:00Z', cpu: { usageCoreNanoSeconds: 2 } },
            { name: 'c', startTime: '2020-01-01T00:00:00Z', cpu: { usageCoreNanoSeconds: -1 } },
          ],
        },
      ],
    });
    expectSameAsJsonParse(Buffer.from(text), { name: 'n1' });
  });
});
