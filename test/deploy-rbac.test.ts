import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { cadvisorEndpoint, type CadvisorSourceConfig } from '../sources/kubelet-cadvisor/config.js';
import { PROMETHEUS_ENDPOINTS, type PrometheusSourceConfig } from '../sources/kubelet-prometheus/config.js';
import type { SummarySourceConfig } from '../sources/kubelet-summary/config.js';
import { parsePipelineConfig } from '../src/config/load.js';
import type { PipelineConfig } from '../src/config/types.js';
import { createBuiltinRegistry } from '../src/builtins.js';
import { kubeletScheme } from '../src/kube/kubelet-access-config.js';
import { AUTH_CONFIGMAP_PATH } from '../src/kube/delegated-auth/auth-config.js';
import { ACCESS_REVIEW_PATH, TOKEN_REVIEW_PATH } from '../src/kube/delegated-auth/reviews.js';

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

// The metrics API: the delegated guard's requests (src/kube/delegated-auth/) must be covered by the bindings in
// deploy/metrics-api-rbac.yaml, and deploy/apiservice.yaml must reach the Service and container port that serve it.

interface Binding {
  readonly kind: 'RoleBinding' | 'ClusterRoleBinding';
  readonly metadata: { readonly name: string; readonly namespace?: string };
  readonly roleRef: { readonly kind: string; readonly name: string };
  readonly subjects: readonly { readonly kind: string; readonly name: string; readonly namespace?: string }[];
}

/**
 * The grants of the bootstrap roles the bindings refer to, from kube-apiserver's bootstrap policy
 * (plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go and namespace_policy.go): `namespace` when the Role
 * lives in one namespace.
 */
const BOOTSTRAP_ROLES: Readonly<Record<string, { namespace?: string; grants: readonly Grant[] }>> = {
  'ClusterRole/system:auth-delegator': {
    grants: [
      grant('authentication.k8s.io', 'tokenreviews', 'create'),
      grant('authorization.k8s.io', 'subjectaccessreviews', 'create'),
    ],
  },
  'Role/extension-apiserver-authentication-reader': {
    namespace: 'kube-system',
    grants: [
      grant('', 'configmaps', 'get'),
      grant('', 'configmaps', 'list'),
      grant('', 'configmaps', 'watch'),
    ],
  },
};

/** What one API request the guard sends asks of RBAC: `grant` in `namespace` (undefined: cluster scope). */
function requestGrant(method: 'GET' | 'POST', path: string): { grant: Grant; namespace?: string } {
  const namespaced = /^\/api\/v1\/namespaces\/([^/]+)\/([^/]+)\/[^/]+$/.exec(path);
  if (namespaced?.[1] !== undefined && namespaced[2] !== undefined) {
    return { grant: grant('', namespaced[2], method === 'GET' ? 'get' : 'create'), namespace: namespaced[1] };
  }
  const cluster = /^\/apis\/([^/]+)\/[^/]+\/([^/]+)$/.exec(path);
  if (cluster?.[1] === undefined || cluster[2] === undefined) throw new Error(`no RBAC mapping for ${path}`);
  return { grant: grant(cluster[1], cluster[2], method === 'GET' ? 'get' : 'create') };
}

function documents<T>(file: string): T[] {
  return parseAllDocuments(readFileSync(new URL(file, DEPLOY), 'utf8')).map((d) => d.toJS() as T);
}

describe('deploy/ for the metrics API', () => {
  const serviceAccount = documents<{ kind: string; metadata: { name: string; namespace: string } }>(
    'rbac.yaml',
  ).find((d) => d.kind === 'ServiceAccount');

  it('binds heapstream’s service account to every grant the delegated guard’s requests need', () => {
    const bindings = documents<Binding>('metrics-api-rbac.yaml').filter((d) => d.kind.endsWith('Binding'));
    const ours = bindings.filter((b) =>
      b.subjects.some(
        (s) =>
          s.kind === 'ServiceAccount' &&
          s.name === serviceAccount?.metadata.name &&
          s.namespace === serviceAccount.metadata.namespace,
      ),
    );
    const requests = [
      requestGrant('GET', AUTH_CONFIGMAP_PATH),
      requestGrant('POST', TOKEN_REVIEW_PATH),
      requestGrant('POST', ACCESS_REVIEW_PATH),
    ];
    const uncovered = requests.filter(
      (need) =>
        !ours.some((binding) => {
          const role = BOOTSTRAP_ROLES[`${binding.roleRef.kind}/${binding.roleRef.name}`];
          if (role === undefined || !role.grants.includes(need.grant)) return false;
          // A RoleBinding grants only in its own namespace; a Role can only be bound where it lives.
          const scope = binding.kind === 'RoleBinding' ? binding.metadata.namespace : undefined;
          if (role.namespace !== undefined && scope !== role.namespace) return false;
          return scope === undefined || scope === need.namespace;
        }),
    );
    expect(uncovered).toEqual([]);
    expect(ours).toHaveLength(bindings.length);
  });

  it('aggregates read access to node and pod metrics into view, edit and admin, as metrics-server does', () => {
    const role = documents<{ kind: string; metadata: { name: string; labels: Record<string, string> } }>(
      'metrics-api-rbac.yaml',
    ).find((d) => d.kind === 'ClusterRole');
    expect(role?.metadata.name).toBe('system:aggregated-metrics-reader');
    for (const to of ['view', 'edit', 'admin']) {
      expect(role?.metadata.labels[`rbac.authorization.k8s.io/aggregate-to-${to}`]).toBe('true');
    }
    const granted = grantedBy('metrics-api-rbac.yaml');
    for (const resource of ['nodes', 'pods']) {
      for (const verb of ['get', 'list']) expect(granted).toContain(grant('metrics.k8s.io', resource, verb));
    }
  });

  it('registers v1beta1.metrics.k8s.io on the heapstream Service, whose port reaches a named container port', () => {
    const [apiService] = documents<{
      kind: string;
      metadata: { name: string };
      spec: { group: string; version: string; service: { name: string; namespace: string; port: number } };
    }>('apiservice.yaml');
    expect(apiService?.kind).toBe('APIService');
    expect(apiService?.metadata.name).toBe(`${apiService?.spec.version}.${apiService?.spec.group}`);
    expect(apiService?.spec).toMatchObject({ group: 'metrics.k8s.io', version: 'v1beta1' });
    const [service] = documents<{
      metadata: { name: string; namespace: string };
      spec: { ports: { port: number; targetPort: string }[] };
    }>('service.yaml');
    expect(apiService?.spec.service).toMatchObject({
      name: service?.metadata.name,
      namespace: service?.metadata.namespace,
    });
    const port = service?.spec.ports.find((p) => p.port === apiService?.spec.service.port);
    const [deployment] = documents<{
      spec: { template: { spec: { containers: { ports: { name: string }[] }[] } } };
    }>('deployment.yaml');
    const containerPorts = deployment?.spec.template.spec.containers.flatMap((c) =>
      c.ports.map((p) => p.name),
    );
    expect(containerPorts).toContain(port?.targetPort);
  });

  it('ships a pipeline whose metrics_api sink listens on the container port the Service targets', () => {
    const configMap = parseYaml(readFileSync(new URL('configmap.yaml', DEPLOY), 'utf8')) as {
      data: Record<string, string>;
    };
    const shipped = pipeline(configMap.data['pipeline.yaml'] ?? '');
    const metrics = shipped.sinks.filter((s) => s.type === 'metrics_api').map((s) => s.config);
    expect(metrics).toHaveLength(1);
    const [deployment] = documents<{
      spec: { template: { spec: { containers: { ports: { name: string; containerPort: number }[] }[] } } };
    }>('deployment.yaml');
    const named = deployment?.spec.template.spec.containers
      .flatMap((c) => c.ports)
      .find((p) => p.name === 'metrics-api');
    expect((metrics[0]?.['listen'] as { port: number } | undefined)?.port).toBe(named?.containerPort);
  });

  it('is part of the default kustomization', () => {
    const kustomization = parseYaml(readFileSync(new URL('kustomization.yaml', DEPLOY), 'utf8')) as {
      resources: string[];
    };
    expect(kustomization.resources).toEqual(
      expect.arrayContaining(['apiservice.yaml', 'metrics-api-rbac.yaml']),
    );
  });
});

// deploy/sharded/: collectors sharding one cluster through Kafka and the aggregator tier (docs/sharding.md).

interface Manifest {
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string };
  readonly data?: Record<string, string>;
  readonly spec?: {
    readonly replicas?: number;
    readonly template: {
      readonly spec: {
        readonly serviceAccountName: string;
        readonly volumes: readonly { readonly configMap?: { readonly name: string } }[];
      };
    };
  };
}

/** The pipeline of the ConfigMap in a deploy/sharded/ file, validated, and that file's Deployment. */
function shardedTier(file: string): { config: PipelineConfig; deployment: Manifest } {
  const manifests = documents<Manifest>(`sharded/${file}`);
  const configMap = manifests.find((m) => m.kind === 'ConfigMap');
  const deployment = manifests.find((m) => m.kind === 'Deployment');
  if (configMap === undefined || deployment === undefined)
    throw new Error(`${file}: a ConfigMap and a Deployment`);
  // The Deployment mounts the ConfigMap beside it.
  expect(deployment.spec?.template.spec.volumes.map((v) => v.configMap?.name)).toContain(
    configMap.metadata.name,
  );
  return { config: pipeline(configMap.data?.['pipeline.yaml'] ?? ''), deployment };
}

describe('deploy/sharded/', () => {
  const collector = shardedTier('collector.yaml');
  const aggregator = shardedTier('aggregator.yaml');

  it('grants the collectors exactly what their pipeline needs, and the aggregator nothing', () => {
    expect(sorted(grantedBy('sharded/rbac.yaml'))).toEqual(sorted(neededGrants(collector.config)));
    const accounts = documents<Manifest>('sharded/rbac.yaml').filter((m) => m.kind === 'ServiceAccount');
    expect(accounts.map((a) => a.metadata.name).sort()).toEqual(
      [collector, aggregator].map((t) => t.deployment.spec?.template.spec.serviceAccountName).sort(),
    );
    const bindings = documents<Binding>('sharded/rbac.yaml').filter((d) => d.kind.endsWith('Binding'));
    const bound = bindings.flatMap((b) => b.subjects.map((s) => s.name));
    expect(bound).toEqual([collector.deployment.spec?.template.spec.serviceAccountName]);
  });

  it('shards the collectors within the two-cycle bound, and the aggregator reads what they write', () => {
    const source = collector.config.source.config as SummarySourceConfig;
    const sharding = source.sharding;
    expect(sharding).toBeDefined();
    if (sharding === undefined) return;
    // docs/sharding.md: a dead replica's nodes move within two cycles when this holds.
    expect(sharding.session_timeout + 2 * sharding.heartbeat_interval).toBeLessThan(
      collector.config.resolutionMs,
    );
    expect(collector.deployment.spec?.replicas).toBeLessThanOrEqual(sharding.partitions);
    const backbone = collector.config.sinks.filter((s) => s.type === 'kafka');
    expect(backbone).toHaveLength(1);
    const sink = backbone[0]?.config as { topic: string; format: string; brokers: string[] };
    expect(sink.format).toBe('batch');
    expect(aggregator.config.source.type).toBe('kafka');
    const read = aggregator.config.source.config as {
      topic: string;
      brokers: string[];
      cycle_deadline: number;
    };
    expect(read.topic).toBe(sink.topic);
    expect(read.brokers).toEqual(sink.brokers);
    // A complete cycle's marks come within a resolution and a scrape timeout of its first batch.
    expect(read.cycle_deadline).toBeGreaterThan(collector.config.resolutionMs + source.timeout);
    expect(aggregator.config.resolutionMs).toBe(collector.config.resolutionMs);
    expect(aggregator.deployment.spec?.replicas).toBe(1);
  });

  it('applies every manifest of the directory', () => {
    const kustomization = parseYaml(readFileSync(new URL('sharded/kustomization.yaml', DEPLOY), 'utf8')) as {
      resources: string[];
    };
    const files = readdirSync(new URL('sharded/', DEPLOY)).filter(
      (f) => f.endsWith('.yaml') && f !== 'kustomization.yaml',
    );
    expect([...kustomization.resources].sort()).toEqual(files.sort());
  });
});
