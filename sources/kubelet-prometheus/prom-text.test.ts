import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../src/component/errors.js';
import { PrometheusTextReader, parseValue } from './prom-text.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
  timestamp: number | undefined;
}

function readAll(text: string): { samples: Sample[]; types: Map<string, string> } {
  const reader = new PrometheusTextReader(text);
  const samples: Sample[] = [];
  while (reader.next()) {
    const labels: Record<string, string> = {};
    for (let i = 0; i < reader.labelCount; i++) labels[reader.labelNames[i]!] = reader.labelValues[i]!;
    samples.push({ name: reader.name, labels, value: reader.value, timestamp: reader.timestamp });
  }
  return { samples, types: reader.types };
}

describe('PrometheusTextReader', () => {
  it('reads names, labels, values and timestamps; keeps TYPE, skips HELP and comments', () => {
    const { samples, types } = readAll(
      [
        '# HELP http_requests_total The total number of HTTP requests.',
        '# TYPE http_requests_total counter',
        'http_requests_total{method="post",code="200"} 1027 1395066363000',
        'http_requests_total{method="post",code="400"}    3   1395066363000',
        '',
        '# a free comment',
        'metric_without_timestamp_and_labels 12.47',
        '  indented_metric 1e3',
        'trailing_comma{a="1",} -2',
      ].join('\n'),
    );
    expect(types.get('http_requests_total')).toBe('counter');
    expect(samples).toEqual([
      {
        name: 'http_requests_total',
        labels: { method: 'post', code: '200' },
        value: 1027,
        timestamp: 1395066363000,
      },
      {
        name: 'http_requests_total',
        labels: { method: 'post', code: '400' },
        value: 3,
        timestamp: 1395066363000,
      },
      { name: 'metric_without_timestamp_and_labels', labels: {}, value: 12.47, timestamp: undefined },
      { name: 'indented_metric', labels: {}, value: 1000, timestamp: undefined },
      { name: 'trailing_comma', labels: { a: '1' }, value: -2, timestamp: undefined },
    ]);
  });

  it('unescapes \\\\, \\" and \\n in label values, and keeps } , = inside quotes', () => {
    const { samples } = readAll(
      'msdos_file_access_time_seconds{path="C:\\\\DIR\\\\FILE.TXT",error="Cannot find file:\\n\\"FILE.TXT\\"",odd="a},b=c"} 1.458255915e9\n',
    );
    expect(samples[0]?.labels).toEqual({
      path: 'C:\\DIR\\FILE.TXT',
      error: 'Cannot find file:\n"FILE.TXT"',
      odd: 'a},b=c',
    });
    expect(samples[0]?.value).toBe(1458255915);
  });

  it('reads NaN, +Inf, -Inf and negative timestamps; tolerates CRLF', () => {
    const { samples } = readAll('a NaN\r\nb +Inf\r\nc -Inf -5\r\nd{le="+Inf"} Inf\r\n');
    expect(Number.isNaN(samples[0]?.value)).toBe(true);
    expect(samples[1]?.value).toBe(Infinity);
    expect(samples[2]?.value).toBe(-Infinity);
    expect(samples[2]?.timestamp).toBe(-5);
    expect(samples[3]?.labels['le']).toBe('+Inf');
    expect(samples[3]?.value).toBe(Infinity);
  });

  it('reads a last line without a newline, and an empty text', () => {
    expect(readAll('x 1').samples).toHaveLength(1);
    expect(readAll('').samples).toHaveLength(0);
    expect(readAll('\n\n# only comments\n').samples).toHaveLength(0);
  });

  it.each([
    ['x{a="1"', 'line 1'],
    ['ok 1\nx{a=1} 2', 'line 2: expected a quoted value for label a'],
    ['x{a="unterminated} 1\ny 2', 'unterminated value of label a'],
    ['x', 'expected a value'],
    ['x abc', 'expected a number as the value, got "abc"'],
    ['x 0x10', 'expected a number'],
    ['x 1 1.5', 'expected a timestamp in ms'],
    ['x 1 2 3', 'unexpected text after the timestamp'],
    ['{a="1"} 1', 'expected a metric name'],
  ])('rejects %j with a DecodeError naming the line', (text, message) => {
    expect(() => readAll(text)).toThrow(DecodeError);
    expect(() => readAll(text)).toThrow(message);
  });

  it('parses values as Go does', () => {
    expect(parseValue('1.616273408e+09')).toBe(1616273408);
    expect(parseValue('.5')).toBe(0.5);
    expect(parseValue('+Infinity')).toBe(Infinity);
    expect(Number.isNaN(parseValue('0b1'))).toBe(true);
  });

  it('reads the whole 3119-line kubelet /metrics/cadvisor fixture', () => {
    const text = readFileSync(
      new URL('../../../shared/fixtures/prometheus/nri-1.27-metrics-cadvisor.prom', import.meta.url),
      'utf8',
    );
    const { samples, types } = readAll(text);
    const expected = text.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#')).length;
    expect(samples).toHaveLength(expected);
    expect(types.get('container_cpu_usage_seconds_total')).toBe('counter');
    expect(types.size).toBe(67);
    const root = samples.find(
      (s) => s.name === 'container_cpu_usage_seconds_total' && s.labels['id'] === '/',
    );
    expect(root).toMatchObject({ value: 80.863332, timestamp: 1694017530589 });
  });
});
