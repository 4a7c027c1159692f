import type { SetType } from '../../src/model/catalogue.js';
import type { CycleEnd, MetricSet } from '../../src/model/types.js';

const TYPE_ORDER: readonly SetType[] = ['cluster', 'ns', 'node', 'sys_container', 'pod', 'pod_container'];

/**
 * A readable summary of one cycle: a headline (nodes answered, sets and values by type, failures), then the
 * busiest sets by CPU with their memory and network, so a person can see at a glance that data flows.
 */
export function formatCycleTable(mark: CycleEnd, sets: readonly MetricSet[], maxRows: number): string {
  const lines: string[] = [];
  const byType = new Map<SetType, number>();
  let values = 0;
  for (const set of sets) {
    byType.set(set.type, (byType.get(set.type) ?? 0) + 1);
    values += set.values.size + set.labeled.length;
  }
  const typeCounts = TYPE_ORDER.filter((t) => byType.has(t))
    .map((t) => `${t} ${byType.get(t)}`)
    .join(' · ');
  lines.push(
    `── cycle ${new Date(mark.timestamp).toISOString()}  nodes ${mark.nodesAnswered}/${mark.nodesExpected}` +
      `  sets ${sets.length}  values ${values}  in ${Math.round(mark.durationMs)} ms`,
    `   ${typeCounts || 'no metric sets'}`,
  );
  for (const f of mark.failures) lines.push(`   ✗ ${f.node} (${f.reason}): ${f.message}`);
  if (maxRows > 0 && sets.length > 0) {
    const rows = [...sets].sort(compareSets).slice(0, maxRows);
    const table = [['TYPE', 'KEY', 'CPU', 'MEMORY', 'NET RX/s', 'NET TX/s'], ...rows.map(row)];
    const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
    for (const r of table)
      lines.push(
        '   ' +
          r
            .map((cell, i) => cell.padEnd(widths[i]!))
            .join('  ')
            .trimEnd(),
      );
    if (sets.length > rows.length) lines.push(`   … ${sets.length - rows.length} more sets`);
  }
  return lines.join('\n') + '\n';
}

function compareSets(a: MetricSet, b: MetricSet): number {
  const byType = TYPE_ORDER.indexOf(a.type) - TYPE_ORDER.indexOf(b.type);
  if (byType !== 0) return byType;
  return cpuOf(b) - cpuOf(a) || (a.key < b.key ? -1 : 1);
}

function cpuOf(set: MetricSet): number {
  return set.values.get('cpu/usage_rate') ?? 0;
}

function row(set: MetricSet): string[] {
  const v = set.values;
  const cpu = v.get('cpu/usage_rate');
  const cpuTotal = v.get('cpu/usage');
  const memory = v.get('memory/working_set') ?? v.get('memory/usage');
  const rx = v.get('network/rx_rate');
  const tx = v.get('network/tx_rate');
  return [
    set.type,
    set.key,
    cpu !== undefined ? `${cpu}m` : cpuTotal !== undefined ? `${(cpuTotal / 1e9).toFixed(1)}s total` : '-',
    memory !== undefined ? bytes(memory) : '-',
    rx !== undefined ? bytes(rx) : '-',
    tx !== undefined ? bytes(tx) : '-',
  ];
}

function bytes(n: number): string {
  const units = ['B', 'Ki', 'Mi', 'Gi', 'Ti'];
  let i = 0;
  while (Math.abs(n) >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? Math.round(n) : n.toFixed(1)}${units[i]}`;
}
