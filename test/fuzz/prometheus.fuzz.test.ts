/**
 * Property-based tests of the kubelet_prometheus decoder: real `/metrics/resource` and `/metrics/cadvisor` texts
 * with hostile lines put in (random lines, huge label values, NaN and ±Inf, negative and uint64 counters, broken
 * escapes, truncation), and families whose every sample is NaN.
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { decodePrometheusMetrics } from '../../sources/kubelet-prometheus/decode.js';
import { prometheusCaptures, type TextCapture } from './captures.js';
import { expectDecodesSafely, fuzzParameters, fuzzTimeout, Huge, hugeString } from './support.js';

const RUNS = 250;
const captures = prometheusCaptures();

/** One change to a Prometheus text; `line` picks a sample line (modulo their count). */
type TextMutation =
  | { readonly op: 'value'; readonly line: number; readonly value: string }
  | { readonly op: 'label'; readonly line: number; readonly value: string | Huge }
  | { readonly op: 'insert'; readonly line: number; readonly text: string }
  | { readonly op: 'delete'; readonly line: number }
  | { readonly op: 'cut'; readonly line: number; readonly at: number }
  /** Every sample of the line's family gets this value: a node that sends only NaN, or only negatives. */
  | { readonly op: 'family'; readonly line: number; readonly value: string };

const hostileSampleValue = fc.oneof(
  fc.constantFrom(
    'NaN',
    '+Inf',
    '-Inf',
    'nan',
    '-1',
    '-0',
    '-1e300',
    '18446744073709551615',
    '9223372036854775808',
    '1.2e32',
    '1e999',
    '0x10',
    '1_000',
    '',
    '1 2 3',
    '1 -9999999999999999999',
    '1 1e30',
  ),
  fc.double().map(String),
);

const hostileLabelValue: fc.Arbitrary<string | Huge> = fc.oneof(
  fc.constantFrom('\\', '\\x', 'a\\', '"', '\\"', '\n', 'a"b', '\u0000', 'é', '\ud800', '}', ',', '='),
  fc.string({ maxLength: 30 }),
  hugeString,
);

const randomLine = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.constantFrom(
    '# TYPE container_cpu_usage_seconds_total gauge',
    '# TYPE x',
    '#',
    'container_cpu_usage_seconds_total{',
    'container_cpu_usage_seconds_total{namespace="a",pod="b",container="c"} -5',
    'container_memory_working_set_bytes{namespace="a",pod="b",container="c"} 18446744073709551615',
    'node_cpu_usage_seconds_total NaN',
    'container_cpu_usage_seconds_total{namespace="a",pod="b",container="c",} 1 1',
    'container_cpu_usage_seconds_total{namespace="a"pod="b"} 1',
    '{namespace="a"} 1',
    'a{b="\\u"} 1',
    'x'.repeat(50_000),
  ),
);

const textMutation: fc.Arbitrary<TextMutation> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ op: fc.constant('value' as const), line: fc.nat(), value: hostileSampleValue }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ op: fc.constant('label' as const), line: fc.nat(), value: hostileLabelValue }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('insert' as const), line: fc.nat(), text: randomLine }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), line: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('cut' as const), line: fc.nat(), at: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('family' as const),
      line: fc.nat(),
      value: fc.constantFrom('NaN', '+Inf', '-Inf', '-1', '-12345.5', '18446744073709551615'),
    }),
  },
);

/** The sample part of a line (name and labels) and the rest (value and timestamp). */
function splitSample(line: string): [string, string] {
  const close = line.lastIndexOf('}');
  const space = line.indexOf(' ', close >= 0 ? close : 0);
  return space < 0 ? [line, ''] : [line.slice(0, space), line.slice(space + 1)];
}

function familyOf(line: string): string {
  const brace = line.indexOf('{');
  const space = line.indexOf(' ');
  const end = brace >= 0 ? brace : space >= 0 ? space : line.length;
  return line.slice(0, end);
}

function mutatedText(capture: TextCapture, mutations: readonly TextMutation[]): string {
  const lines = [...capture.lines];
  for (const m of mutations) {
    const index = capture.samples[m.line % capture.samples.length]!;
    // An earlier `cut` or `delete` may have removed the line this mutation names: nothing left to mutate there.
    if (index >= lines.length) continue;
    const line = lines[index] ?? '';
    switch (m.op) {
      case 'value': {
        const [series, rest] = splitSample(line);
        const timestamp = rest.split(' ')[1];
        lines[index] = `${series} ${m.value}${timestamp === undefined ? '' : ` ${timestamp}`}`;
        break;
      }
      case 'label': {
        const open = line.indexOf('="');
        if (open < 0) break;
        const close = line.indexOf('"', open + 2);
        if (close < 0) break;
        const value = m.value instanceof Huge ? m.value.text() : m.value;
        lines[index] = `${line.slice(0, open + 2)}${value}${line.slice(close)}`;
        break;
      }
      case 'insert':
        lines.splice(index, 0, m.text);
        break;
      case 'delete':
        lines.splice(index, 1);
        break;
      case 'cut':
        lines.length = index + 1;
        lines[index] = line.slice(0, m.at % (line.length + 1));
        break;
      case 'family': {
        const family = familyOf(line);
        for (let i = 0; i < lines.length; i++) {
          const other = lines[i]!;
          if (other.startsWith('#') || familyOf(other) !== family) continue;
          const [series, rest] = splitSample(other);
          const timestamp = rest.split(' ')[1];
          lines[i] = `${series} ${m.value}${timestamp === undefined ? '' : ` ${timestamp}`}`;
        }
        break;
      }
    }
  }
  return lines.join('\n');
}

function decode(text: string, what: string): ReturnType<typeof decodePrometheusMetrics> {
  return decodePrometheusMetrics(text, { name: 'fuzz-node' }, 1_700_000_000_000, what);
}

const whatOf = (capture: TextCapture): string =>
  capture.name.includes('resource') ? '/metrics/resource' : '/metrics/cadvisor';

describe('kubelet_prometheus decoder under hostile texts', () => {
  it('decodes every real capture as it is', () => {
    for (const capture of captures)
      expectDecodesSafely(() => decode(capture.lines.join('\n'), whatOf(capture)));
  });

  it(
    'returns writable sets or throws a DecodeError, fast, for any mutation of a real text',
    () => {
      fc.assert(
        fc.property(
          fc.constantFrom(...captures),
          fc.array(textMutation, { minLength: 1, maxLength: 4 }),
          (capture, mutations) => {
            const text = mutatedText(capture, mutations);
            expectDecodesSafely(() => decode(text, whatOf(capture)));
          },
        ),
        fuzzParameters(RUNS),
      );
    },
    fuzzTimeout(RUNS, 400),
  );

  it(
    'returns writable sets or throws a DecodeError for arbitrary text',
    () => {
      fc.assert(
        fc.property(fc.array(randomLine, { maxLength: 20 }), (lines) => {
          expectDecodesSafely(() => decode(lines.join('\n'), '/metrics/cadvisor'));
        }),
        fuzzParameters(RUNS * 3),
      );
    },
    fuzzTimeout(RUNS * 3, 50),
  );
});
