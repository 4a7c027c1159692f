/**
 * Aggregated discovery (apidiscovery.k8s.io/v2), which kubectl 1.30+ asks `/api` and `/apis` for first: one
 * document with every group, version and resource, so a client needs no request per group version.
 */

/** A resource as a legacy APIResourceList lists it (what an aggregated API server serves at /apis/<g>/<v>). */
export interface LegacyResource {
  readonly name: string;
  readonly singularName?: string;
  readonly namespaced: boolean;
  readonly kind: string;
  readonly verbs: readonly string[];
  readonly shortNames?: readonly string[];
  readonly categories?: readonly string[];
}

/** One group's versions and their resources; `resources` undefined when they could not be read (stale). */
export interface DiscoveredGroup {
  readonly group: string;
  readonly versions: readonly {
    readonly version: string;
    readonly resources: readonly LegacyResource[] | undefined;
  }[];
}

export const AGGREGATED_DISCOVERY_TYPE =
  'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

/** Whether an Accept header asks for aggregated discovery v2 (client-go lists it first, then v2beta1, then JSON). */
export function wantsAggregatedDiscovery(accept: string | undefined): boolean {
  return (accept ?? '').split(',').some((type) => {
    const params = type.split(';').map((p) => p.trim());
    return (
      params.includes('g=apidiscovery.k8s.io') &&
      params.includes('v=v2') &&
      params.includes('as=APIGroupDiscoveryList')
    );
  });
}

const readOnly = ['get', 'list', 'watch'];

/** The resources of the groups the fake server serves itself. */
export const BUILT_IN_RESOURCES: readonly DiscoveredGroup[] = [
  {
    group: '',
    versions: [
      {
        version: 'v1',
        resources: [
          {
            name: 'nodes',
            singularName: 'node',
            namespaced: false,
            kind: 'Node',
            verbs: readOnly,
            shortNames: ['no'],
          },
          {
            name: 'pods',
            singularName: 'pod',
            namespaced: true,
            kind: 'Pod',
            verbs: readOnly,
            shortNames: ['po'],
          },
          {
            name: 'namespaces',
            singularName: 'namespace',
            namespaced: false,
            kind: 'Namespace',
            verbs: readOnly,
            shortNames: ['ns'],
          },
        ],
      },
    ],
  },
  {
    group: 'apps',
    versions: [
      {
        version: 'v1',
        resources: [
          {
            name: 'replicasets',
            singularName: 'replicaset',
            namespaced: true,
            kind: 'ReplicaSet',
            verbs: readOnly,
            shortNames: ['rs'],
          },
        ],
      },
    ],
  },
  {
    group: 'batch',
    versions: [
      {
        version: 'v1',
        resources: [{ name: 'jobs', singularName: 'job', namespaced: true, kind: 'Job', verbs: readOnly }],
      },
    ],
  },
  {
    group: 'authentication.k8s.io',
    versions: [
      {
        version: 'v1',
        resources: [
          {
            name: 'tokenreviews',
            singularName: 'tokenreview',
            namespaced: false,
            kind: 'TokenReview',
            verbs: ['create'],
          },
        ],
      },
    ],
  },
  {
    group: 'authorization.k8s.io',
    versions: [
      {
        version: 'v1',
        resources: [
          {
            name: 'subjectaccessreviews',
            singularName: 'subjectaccessreview',
            namespaced: false,
            kind: 'SubjectAccessReview',
            verbs: ['create'],
          },
        ],
      },
    ],
  },
];

/** An APIGroupDiscoveryList of `groups`, as kube-apiserver's aggregated discovery handler writes it. */
export function discoveryList(groups: readonly DiscoveredGroup[]): Record<string, unknown> {
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: 'apidiscovery.k8s.io/v2',
    metadata: {},
    items: groups.map((g) => ({
      metadata: g.group === '' ? { creationTimestamp: null } : { name: g.group, creationTimestamp: null },
      versions: g.versions.map((v) => ({
        version: v.version,
        resources: (v.resources ?? [])
          .filter((r) => !r.name.includes('/'))
          .map((r) => discoveryResource(r, v.resources ?? [])),
        // A version whose server could not be asked stays listed, marked stale, as the aggregator does.
        freshness: v.resources === undefined ? 'Stale' : 'Current',
      })),
    })),
  };
}

function discoveryResource(r: LegacyResource, all: readonly LegacyResource[]): Record<string, unknown> {
  const subresources = all
    .filter((s) => s.name.startsWith(r.name + '/'))
    .map((s) => ({
      subresource: s.name.slice(r.name.length + 1),
      responseKind: { group: '', version: '', kind: s.kind },
      verbs: [...s.verbs],
    }));
  return {
    resource: r.name,
    responseKind: { group: '', version: '', kind: r.kind },
    scope: r.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: r.singularName ?? r.kind.toLowerCase(),
    verbs: [...r.verbs],
    ...(r.shortNames === undefined || r.shortNames.length === 0 ? {} : { shortNames: [...r.shortNames] }),
    ...(r.categories === undefined || r.categories.length === 0 ? {} : { categories: [...r.categories] }),
    ...(subresources.length === 0 ? {} : { subresources }),
  };
}
