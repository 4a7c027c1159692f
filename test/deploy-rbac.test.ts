import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { cadvisorEndpoint, type CadvisorSourceConfig } from '../sources/kubelet-cadvisor/config.js';
import { PROMETHEUS_ENDPOINTS, type PrometheusSourceConfig } from '../sources/kubelet-prometheus/config.js';
import type { SummarySourceConfig } from '../sources/kubelet-summary/config.js';
import { parsePipelineConfig } from '../src/config/load.js';
import type { PipelineConfig } from '../src/config/types.js';
import { createBuiltinRegistry } from '../src/builtins.js';
import { kubeletScheme } from '../src/kube/kubelet-access-config.js';

// The shipped RBAC is exactly what the shipped pipeline needs: the needs are derived from the pipeline config,
// the grants read from deploy/rbac.yaml. An unneeded grant fails, and so does a feature without its grant.

const DEPLOY = new URL('../deploy/', import.meta.url);

/** One grant: `group/resource:verb`, the core group written as "". */
type Grant = string;

const grant = (group: string, resource: string, verb: string): Grant => `${group}/${resource}:${verb}`;

/** The kubelet's authorization of its own API (kubelet authz webhook mode): path → subresource, method → verb. */
function kubeletGrant(path: string, method: 'GET' | 'POST'): Grant {
  const verb = method === 'GET' ? 'get' : 'create';
  if (path.startsWith('/stats')) return grant('', 'nodes/stats', verb);
  if (path.startsWith('/metrics')) return grant('', 'nodes/metrics', verb);
  if (path.startsWith('/logs')) return grant('', 'nodes/log', verb);
  if (path.startsWith('/spec')) return grant('', 'nodes/spec', verb);
  return grant('', 'nodes/proxy', verb);
}

/** What a kubelet source's scrape asks of the cluster: which kubelet path, how, and how it is reached. */
function scrapeOf(config: PipelineConfig): {
  path: string;
  method: 'GET' | 'POST';
  scheme: 'http' | 'https';
  kubelet: boolean;
} {
  const source = config.source;
  switch (source.type) {
    case 'kubelet_summary': {
      const c = source.config as SummarySourceConfig;
      return { path: c.path, method: 'GET', scheme: kubeletScheme(c), kubelet: true };
    }
    case 'kubelet_prometheus': {
      const c = source.config as PrometheusSourceConfig;
      return {
        path: c.path ?? PROMETHEUS_ENDPOINTS[c.endpoint],
        method: 'GET',
        scheme: kubeletScheme(c),
        kubelet: true,
      };
    }
    case 'kubelet_cadvisor': {
      const c = source.config as CadvisorSourceConfig;
      const { path, scheme } = cadvisorEndpoint(c);
      // Standalone cAdvisor has no Kubernetes authorization.
      return { path, method: 'POST', scheme, kubelet: c.api === 'kubelet' };
    }
    default:
      throw new Error(`no RBAC rule known for source type ${source.type}`);
  }
}

/** Every grant the pipeline uses, from its resolved config (defaults applied). */
function neededGrants(config: PipelineConfig): Set<Grant> {
  const needs = new Set<Grant>();
  const source = config.source.config as SummarySourceConfig;
  const kubernetes = source.discovery.kubernetes;
  if (kubernetes !== undefined) {
    const watch = (group: string, resource: string) => {
      needs.add(grant(group, resource, 'list'));
      needs.add(grant(group, resource, 'watch'));
    };
    watch('', 'nodes');
    if (kubernetes.metadata) {
      watch('', 'pods');
      watch('', 'namespaces');
    }
    if (kubernetes.owners === 'watch') {
      watch('apps', 'replicasets');
      watch('batch', 'jobs');
    }
  }
  const scrape = scrapeOf(config);
  if (source.via === 'apiserver_proxy') {
    needs.add(grant('', 'nodes/proxy', scrape.method === 'GET' ? 'get' : 'create'));
  } else {
    // Over plain http (the read-only port) the kubelet authorizes nothing.
    if (scrape.kubelet && scrape.scheme === 'https') needs.add(kubeletGrant(scrape.path, scrape.method));
  }
  return needs;
}

interface Rule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
}

/** The grants of the ClusterRoles in a deploy/ file. */
function grantedBy(file: string): Set<Grant> {
  const granted = new Set<Grant>();
  for (const doc of parseAllDocuments(readFileSync(new URL(file, DEPLOY), 'utf8'))) {
    const object = doc.toJS() as { kind?: string; rules?: readonly Rule[] };
    if (object.kind !== 'ClusterRole') continue;
    for (const rule of object.rules ?? []) {
      for (const group of rule.apiGroups) {
        for (const resource of rule.resources) {
          for (const verb of rule.verbs) granted.add(grant(group, resource, verb));
        }
      }
    }
  }
  return granted;
}

function pipeline(text: string): PipelineConfig {
  return parsePipelineConfig(text, 'pipeline.yaml', createBuiltinRegistry(), {});
}

/** A pipeline with a kubernetes-discovered kubelet source of these keys (YAML lines under `source:`). */
function withSource(...lines: string[]): PipelineConfig {
  return pipeline(
    ['source:', ...lines.map((l) => `  ${l}`), 'sinks:', '  out: { type: stdout }', ''].join('\n'),
  );
}

const sorted = (grants: Set<Grant>) => [...grants].sort();

describe('deploy/rbac.yaml', () => {
  it('grants exactly what the shipped pipeline (deploy/configmap.yaml) needs', () => {
    const configMap = parseYaml(readFileSync(new URL('configmap.yaml', DEPLOY), 'utf8')) as {
      data: Record<string, string>;
    };
    const shipped = pipeline(configMap.data['pipeline.yaml'] ?? '');
    expect(sorted(grantedBy('rbac.yaml'))).toEqual(sorted(neededGrants(shipped)));
  });

  it('with rbac-extras.yaml, covers every other access setting, each extra rule used by one of them', () => {
    const k8s = 'discovery: { kubernetes: { owners: watch } }';
    const settings = [
      withSource('type: kubelet_summary', k8s, 'via: apiserver_proxy'),
      withSource('type: kubelet_prometheus', k8s),
      withSource('type: kubelet_prometheus', k8s, 'endpoint: cadvisor'),
      withSource('type: kubelet_cadvisor', k8s),
      withSource('type: kubelet_summary', 'discovery: { kubernetes: { metadata: false } }', 'scheme: http'),
    ];
    const granted = new Set([...grantedBy('rbac.yaml'), ...grantedBy('rbac-extras.yaml')]);
    const used = new Set<Grant>();
    for (const config of settings) {
      const needs = neededGrants(config);
      for (const need of needs) used.add(need);
      expect([...needs].filter((need) => !granted.has(need))).toEqual([]);
    }
    expect(sorted(grantedBy('rbac-extras.yaml')).filter((g) => !used.has(g))).toEqual([]);
  });

  it('leaves rbac-extras.yaml out of the default kustomization', () => {
    const kustomization = parseYaml(readFileSync(new URL('kustomization.yaml', DEPLOY), 'utf8')) as {
      resources: string[];
    };
    expect(kustomization.resources).toContain('rbac.yaml');
    expect(kustomization.resources).not.toContain('rbac-extras.yaml');
  });
});
