import { createHash } from 'node:crypto';
import { GROUP, GROUP_VERSION, VERSION } from './objects.js';

/**
 * The discovery and OpenAPI documents a Kubernetes client (kubectl, the API server's aggregator, the HPA's
 * client) reads before it asks for metrics. Built once: they never change while heapstream runs.
 */

const groupVersion = { groupVersion: GROUP_VERSION, version: VERSION };
const group = { name: GROUP, versions: [groupVersion], preferredVersion: groupVersion };

/** `GET /apis`: the APIGroupList of the one group served. */
export const API_GROUP_LIST = { kind: 'APIGroupList', apiVersion: 'v1', groups: [group] };

/** `GET /apis/metrics.k8s.io`. */
export const API_GROUP = { kind: 'APIGroup', apiVersion: 'v1', ...group };

/**
 * `GET /apis/metrics.k8s.io/v1beta1`: what metrics-server's generic API server lists for its two read-only
 * resources (metrics-server pkg/api/node.go and pod.go: get and list, nodes cluster-scoped, pods namespaced).
 */
export const API_RESOURCE_LIST = {
  kind: 'APIResourceList',
  apiVersion: 'v1',
  groupVersion: GROUP_VERSION,
  resources: [
    { name: 'nodes', singularName: '', namespaced: false, kind: 'NodeMetrics', verbs: ['get', 'list'] },
    { name: 'pods', singularName: '', namespaced: true, kind: 'PodMetrics', verbs: ['get', 'list'] },
  ],
};

/** The version heapstream reports at `/version` (its own, as metrics-server reports its own). */
export function versionInfo(version: string): Record<string, string> {
  const [major = '', minor = ''] = version.replace(/^v/, '').split('.');
  return {
    major,
    minor,
    gitVersion: `v${version.replace(/^v/, '')}`,
    gitCommit: '',
    gitTreeState: '',
    buildDate: '',
    goVersion: '',
    compiler: 'node',
    platform: `${process.platform}/${process.arch}`,
  };
}

const PREFIX = 'io.k8s.metrics.pkg.apis.metrics.v1beta1.';
const META = 'io.k8s.apimachinery.pkg.apis.meta.v1.';
const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';

type Schema = Record<string, unknown>;

/** The schemas of the metrics types and the apimachinery types they use, with `$ref`s under `refBase`. */
function schemas(refBase: string): Record<string, Schema> {
  const ref = (name: string) => ({ $ref: refBase + name });
  const gvk = (kind: string) => ({
    'x-kubernetes-group-version-kind': [{ group: GROUP, kind, version: VERSION }],
  });
  const usage = { type: 'object', additionalProperties: ref(QUANTITY) };
  const typeMeta = { apiVersion: { type: 'string' }, kind: { type: 'string' } };
  const interval = {
    timestamp: ref(META + 'Time'),
    window: { type: 'string', description: 'A Go duration, e.g. 15.012s.' },
  };
  return {
    [PREFIX + 'NodeMetrics']: {
      description: 'NodeMetrics sets resource usage metrics of a node.',
      type: 'object',
      required: ['timestamp', 'window', 'usage'],
      properties: { ...typeMeta, metadata: ref(META + 'ObjectMeta'), ...interval, usage },
      ...gvk('NodeMetrics'),
    },
    [PREFIX + 'NodeMetricsList']: {
      description: 'NodeMetricsList is a list of NodeMetrics.',
      type: 'object',
      required: ['items'],
      properties: {
        ...typeMeta,
        metadata: ref(META + 'ListMeta'),
        items: { type: 'array', items: ref(PREFIX + 'NodeMetrics') },
      },
      ...gvk('NodeMetricsList'),
    },
    [PREFIX + 'ContainerMetrics']: {
      description: 'ContainerMetrics sets resource usage metrics of a container.',
      type: 'object',
      required: ['name', 'usage'],
      properties: { name: { type: 'string' }, usage },
    },
    [PREFIX + 'PodMetrics']: {
      description: 'PodMetrics sets resource usage metrics of a pod.',
      type: 'object',
      required: ['timestamp', 'window', 'containers'],
      properties: {
        ...typeMeta,
        metadata: ref(META + 'ObjectMeta'),
        ...interval,
        containers: {
          type: 'array',
          items: ref(PREFIX + 'ContainerMetrics'),
          'x-kubernetes-list-type': 'atomic',
        },
      },
      ...gvk('PodMetrics'),
    },
    [PREFIX + 'PodMetricsList']: {
      description: 'PodMetricsList is a list of PodMetrics.',
      type: 'object',
      required: ['items'],
      properties: {
        ...typeMeta,
        metadata: ref(META + 'ListMeta'),
        items: { type: 'array', items: ref(PREFIX + 'PodMetrics') },
      },
      ...gvk('PodMetricsList'),
    },
    [META + 'ObjectMeta']: {
      type: 'object',
      properties: {
        name: { type: 'string' },
        namespace: { type: 'string' },
        creationTimestamp: ref(META + 'Time'),
        labels: { type: 'object', additionalProperties: { type: 'string' } },
      },
    },
    [META + 'ListMeta']: {
      type: 'object',
      properties: { resourceVersion: { type: 'string' }, continue: { type: 'string' } },
    },
    [META + 'Time']: { type: 'string', format: 'date-time' },
    [QUANTITY]: { type: 'string', description: 'A Kubernetes resource quantity: 123456n, 1234Ki.' },
  };
}

interface Operation {
  readonly path: string;
  readonly kind: string;
  readonly action: 'get' | 'list';
  readonly params: readonly string[];
}

const OPERATIONS: readonly Operation[] = [
  { path: '/nodes', kind: 'NodeMetricsList', action: 'list', params: [] },
  { path: '/nodes/{name}', kind: 'NodeMetrics', action: 'get', params: ['name'] },
  { path: '/pods', kind: 'PodMetricsList', action: 'list', params: [] },
  { path: '/namespaces/{namespace}/pods', kind: 'PodMetricsList', action: 'list', params: ['namespace'] },
  {
    path: '/namespaces/{namespace}/pods/{name}',
    kind: 'PodMetrics',
    action: 'get',
    params: ['namespace', 'name'],
  },
];

const SELECTORS = ['labelSelector', 'fieldSelector'];

function operationId(op: Operation): string {
  const scope = op.path.startsWith('/namespaces') ? 'Namespaced' : '';
  const verb = op.action === 'list' ? 'list' : 'read';
  const kind = op.kind.replace(/List$/, '');
  return `${verb}MetricsV1beta1${scope}${kind}`;
}

/** `GET /openapi/v2`: a Swagger 2.0 document of the five read paths. */
export function openApiV2(version: string): Schema {
  const paths: Record<string, Schema> = {};
  for (const op of OPERATIONS) {
    const parameters = [
      ...op.params.map((name) => ({ name, in: 'path', required: true, type: 'string', uniqueItems: true })),
      ...(op.action === 'list'
        ? SELECTORS.map((name) => ({ name, in: 'query', type: 'string', uniqueItems: true }))
        : []),
    ];
    paths[`/apis/${GROUP_VERSION}${op.path}`] = {
      get: {
        operationId: operationId(op),
        produces: ['application/json'],
        schemes: ['https'],
        tags: ['metrics_v1beta1'],
        parameters,
        responses: {
          '200': { description: 'OK', schema: { $ref: `#/definitions/${PREFIX}${op.kind}` } },
          '401': { description: 'Unauthorized' },
        },
        ...kubernetesExtensions(op),
      },
    };
  }
  return {
    swagger: '2.0',
    info: { title: 'heapstream metrics API', version },
    paths,
    definitions: schemas('#/definitions/'),
  };
}

/** The `x-kubernetes-*` fields kubectl reads from an operation, the same in OpenAPI v2 and v3. */
function kubernetesExtensions(op: Operation): Schema {
  return {
    'x-kubernetes-action': op.action,
    'x-kubernetes-group-version-kind': { group: GROUP, version: VERSION, kind: op.kind.replace(/List$/, '') },
  };
}

/** `GET /openapi/v3/apis/metrics.k8s.io/v1beta1`: the OpenAPI 3.0 document of the group version. */
export function openApiV3GroupVersion(version: string): Schema {
  const paths: Record<string, Schema> = {};
  for (const op of OPERATIONS) {
    const parameters = [
      ...op.params.map((name) => ({
        name,
        in: 'path',
        required: true,
        schema: { type: 'string', uniqueItems: true },
      })),
      ...(op.action === 'list'
        ? SELECTORS.map((name) => ({ name, in: 'query', schema: { type: 'string', uniqueItems: true } }))
        : []),
    ];
    paths[`/apis/${GROUP_VERSION}${op.path}`] = {
      get: {
        operationId: operationId(op),
        tags: ['metrics_v1beta1'],
        parameters,
        responses: {
          '200': {
            description: 'OK',
            content: { 'application/json': { schema: { $ref: `#/components/schemas/${PREFIX}${op.kind}` } } },
          },
          '401': { description: 'Unauthorized' },
        },
        ...kubernetesExtensions(op),
      },
    };
  }
  return {
    openapi: '3.0.0',
    info: { title: 'heapstream metrics API', version },
    paths,
    components: { schemas: schemas('#/components/schemas/') },
  };
}

export const OPENAPI_V3_GROUP_PATH = `/openapi/v3/apis/${GROUP_VERSION}`;

/** `GET /openapi/v3`: where the group version's document is, with the hash clients key their caches by. */
export function openApiV3Root(groupVersionText: string): Schema {
  const hash = createHash('sha512').update(groupVersionText).digest('hex').toUpperCase();
  return {
    paths: { [`apis/${GROUP_VERSION}`]: { serverRelativeURL: `${OPENAPI_V3_GROUP_PATH}?hash=${hash}` } },
  };
}
