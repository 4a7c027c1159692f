import { describe, expect, it } from 'vitest';
import { SelectorError, parseFieldSelector, parseLabelSelector } from './selectors.js';

// Semantics of apimachinery's labels.Parse and fields.ParseSelector, which metrics-server's list handlers use
// (pkg/api/node.go `nodes`, pkg/api/pod.go `pods`, pkg/api/filter.go).
describe('parseLabelSelector', () => {
  const web = { app: 'web', tier: 'frontend', 'example.com/team': 'a' };
  const api = { app: 'api', canary: 'true' };
  it.each([
    ['', true, true],
    ['app=web', true, false],
    ['app==web', true, false],
    ['app!=web', false, true],
    ['missing!=x', true, true],
    ['app in (web, api)', true, true],
    ['app notin (web)', false, true],
    ['missing notin (x)', true, true],
    ['canary', false, true],
    ['!canary', true, false],
    ['app=web,tier=frontend', true, false],
    ['app in (web),!canary,tier', true, false],
    ['example.com/team=a', true, false],
    ['tier=', false, false],
  ])('%s', (text, matchesWeb, matchesApi) => {
    const selector = parseLabelSelector(text);
    expect(selector.matches(web)).toBe(matchesWeb);
    expect(selector.matches(api)).toBe(matchesApi);
  });

  it('matches an empty value with key=', () => {
    expect(parseLabelSelector('tier=').matches({ tier: '' })).toBe(true);
  });

  it('compares integers with > and <', () => {
    expect(parseLabelSelector('gen>2').matches({ gen: '3' })).toBe(true);
    expect(parseLabelSelector('gen<2').matches({ gen: '3' })).toBe(false);
  });

  it.each([
    'app in web',
    'app in ()',
    '=web',
    'app=web,',
    'app=a b',
    'app=web)',
    'bad key=x',
    '-app=x',
    'app=-x',
  ])('rejects %s', (text) => {
    expect(() => parseLabelSelector(text)).toThrow(SelectorError);
  });
});

describe('parseFieldSelector', () => {
  const pod = { 'metadata.name': 'web-1', 'metadata.namespace': 'default' };
  it.each([
    ['', true],
    ['metadata.name=web-1', true],
    ['metadata.name==web-1', true],
    ['metadata.name!=web-1', false],
    ['metadata.namespace=default,metadata.name=web-1', true],
    ['metadata.namespace!=kube-system', true],
    ['metadata.namespace=kube-system', false],
  ])('%s', (text, matches) => {
    expect(parseFieldSelector(text).matches(pod)).toBe(matches);
  });

  it('pins the name and namespace for a lookup', () => {
    const selector = parseFieldSelector('metadata.name=a,metadata.namespace=b');
    expect([selector.name, selector.namespace]).toEqual(['a', 'b']);
  });

  it('rejects other fields as the API server does (DefaultMetaV1FieldSelectorConversion)', () => {
    expect(() => parseFieldSelector('spec.nodeName=n1')).toThrow('field label not supported: spec.nodeName');
    expect(() => parseFieldSelector('metadata.name')).toThrow(SelectorError);
  });
});
