import { describe, expect, it } from 'vitest';
import { DEFAULT_PARTITION, parsePartitionTemplate, type PartitionTemplate } from './partition.js';

function parse(text: string): PartitionTemplate {
  const t = parsePartitionTemplate(text);
  if (typeof t === 'string') throw new Error(t);
  return t;
}

describe('partition templates', () => {
  it('renders the default Hive layout in UTC from the batch time', () => {
    const t = parse(DEFAULT_PARTITION);
    expect(t.hasType).toBe(true);
    // 23:30 on the 31st in UTC is already the 1st in UTC+1: the path must not follow the local zone.
    expect(t.render('pod_container', Date.UTC(2026, 11, 31, 23, 30))).toBe(
      'dt=2026-12-31/hour=23/type=pod_container',
    );
    expect(t.render('node', Date.UTC(2027, 0, 1, 0, 0, 0, 1))).toBe('dt=2027-01-01/hour=00/type=node');
  });

  it('knows every placeholder and keeps literals', () => {
    const t = parse('y={year}/m={month}/d={day}/h{hour}m{minute}/');
    expect(t.hasType).toBe(false);
    expect(t.render('pod', Date.UTC(2026, 1, 3, 4, 5))).toBe('y=2026/m=02/d=03/h04m05');
    expect(parse('').render('pod', 0)).toBe('');
  });

  it('rejects what could escape `path` or is not a placeholder, saying why', () => {
    expect(parsePartitionTemplate('/abs/{date}')).toMatch(/relative path/);
    expect(parsePartitionTemplate('a/../b')).toMatch(/"\.\."/);
    expect(parsePartitionTemplate('a//b')).toMatch(/empty/);
    expect(parsePartitionTemplate('dt={dat}')).toMatch(/unknown placeholder \{dat\}: use \{date\}/);
    expect(parsePartitionTemplate('dt={date')).toMatch(/without a closing/);
    expect(parsePartitionTemplate('dt=date}')).toMatch(/without a "\{"/);
  });
});
