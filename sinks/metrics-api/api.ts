import type { MetadataProvider } from '../../src/component/metadata.js';
import type { RequestAttributes } from '../../src/kube/delegated-auth/guard.js';
import {
  API_GROUP,
  API_GROUP_LIST,
  API_RESOURCE_LIST,
  OPENAPI_V3_GROUP_PATH,
  openApiV2,
  openApiV3GroupVersion,
  openApiV3Root,
  versionInfo,
} from './discovery.js';
import {
  GROUP,
  GROUP_VERSION,
  LIST_TAIL,
  VERSION,
  failure,
  listHead,
  metricsNotFound,
  MetricsJsonWriter,
  typeMeta,
  type StatusBody,
} from './objects.js';
import {
  SelectorError,
  parseFieldSelector,
  parseLabelSelector,
  type FieldSelector,
  type LabelSelector,
} from './selectors.js';
import type { LatestPointsStore, NodeEntry } from './store.js';

/** What a request asks for, once its path is read. */
export type Route =
  | { readonly kind: 'health'; readonly check: 'healthz' | 'livez' | 'readyz' }
  | { readonly kind: 'document'; readonly body: string; readonly attributes: RequestAttributes }
  | { readonly kind: 'nodes'; readonly name?: string; readonly attributes: RequestAttributes }
  | {
      readonly kind: 'pods';
      readonly namespace?: string;
      readonly name?: string;
      readonly attributes: RequestAttributes;
    }
  | { readonly kind: 'not_found'; readonly attributes: RequestAttributes };

/** An answer: a JSON text in pieces (a list of 150,000 pods is written as it is built), and its HTTP code. */
export interface Answer {
  readonly code: number;
  readonly chunks: Iterable<string>;
}

const API_PREFIX = `/apis/${GROUP_VERSION}/`;
/** Items per written piece of a list: large enough to write few times, small enough to start writing early. */
const ITEMS_PER_CHUNK = 500;
/** Pods per node fit below this, so an (entry, pod) pair is one number. */
const POD_SPAN = 2 ** 20;

function resource(
  verb: 'get' | 'list',
  name: 'nodes' | 'pods',
  namespace?: string,
  objectName?: string,
): RequestAttributes {
  return {
    kind: 'resource',
    verb,
    group: GROUP,
    version: VERSION,
    resource: name,
    ...(namespace === undefined ? {} : { namespace }),
    ...(objectName === undefined ? {} : { name: objectName }),
  };
}

/** Splits a path's segments, decoding each; undefined when one is not valid percent-encoding. */
function segments(path: string): string[] | undefined {
  try {
    return path
      .split('/')
      .filter((s) => s !== '')
      .map((s) => decodeURIComponent(s));
  } catch {
    return undefined;
  }
}

/** A pod without metadata, told apart from one not looked up yet. */
const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});
type LabelsSlot = Readonly<Record<string, string>> | undefined;

interface PodOrder {
  readonly version: number;
  readonly entries: readonly NodeEntry[];
  /** (entry index × POD_SPAN + pod index) of every servable pod, sorted. */
  readonly refs: Float64Array;
}

/** Serves the metrics API from the store; documents are serialized once. */
export class MetricsApi {
  private readonly documents: ReadonlyMap<string, string>;
  private order: PodOrder | undefined;
  /** Each node batch's pod labels, resolved on first use (see podLabels); dropped with the batch's entry. */
  private readonly labelsByEntry = new WeakMap<NodeEntry, LabelsSlot[]>();
  /** Each metadata labels object's JSON, kept while the metadata keeps the object. */
  private readonly labelTexts = new WeakMap<object, string>();

  constructor(
    private readonly store: LatestPointsStore,
    private readonly metadata: MetadataProvider,
    private readonly now: () => number,
    version: string,
  ) {
    const groupVersionDoc = JSON.stringify(openApiV3GroupVersion(version));
    this.documents = new Map([
      ['/apis', JSON.stringify(API_GROUP_LIST)],
      [`/apis/${GROUP}`, JSON.stringify(API_GROUP)],
      [`/apis/${GROUP_VERSION}`, JSON.stringify(API_RESOURCE_LIST)],
      ['/openapi/v2', JSON.stringify(openApiV2(version))],
      ['/openapi/v3', JSON.stringify(openApiV3Root(groupVersionDoc))],
      [OPENAPI_V3_GROUP_PATH, groupVersionDoc],
      ['/version', JSON.stringify(versionInfo(version))],
    ]);
  }

  /** Reads the path: health checks, documents, the metrics resources, or not found. */
  route(path: string): Route {
    const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
    if (trimmed === '/healthz' || trimmed === '/livez' || trimmed === '/readyz') {
      return { kind: 'health', check: trimmed.slice(1) as 'healthz' | 'livez' | 'readyz' };
    }
    const document = this.documents.get(trimmed);
    const nonResource: RequestAttributes = { kind: 'non_resource', verb: 'get', path: trimmed };
    if (document !== undefined) return { kind: 'document', body: document, attributes: nonResource };
    if (!trimmed.startsWith(API_PREFIX)) return { kind: 'not_found', attributes: nonResource };
    const parts = segments(trimmed.slice(API_PREFIX.length));
    if (parts === undefined) return { kind: 'not_found', attributes: nonResource };
    const [first, second, third, fourth] = parts;
    if (first === 'nodes' && parts.length <= 2) {
      return second === undefined
        ? { kind: 'nodes', attributes: resource('list', 'nodes') }
        : { kind: 'nodes', name: second, attributes: resource('get', 'nodes', undefined, second) };
    }
    if (first === 'pods' && parts.length === 1) return { kind: 'pods', attributes: resource('list', 'pods') };
    if (first === 'namespaces' && second !== undefined && third === 'pods' && parts.length <= 4) {
      return fourth === undefined
        ? { kind: 'pods', namespace: second, attributes: resource('list', 'pods', second) }
        : {
            kind: 'pods',
            namespace: second,
            name: fourth,
            attributes: resource('get', 'pods', second, fourth),
          };
    }
    return { kind: 'not_found', attributes: nonResource };
  }

  /** The answer to a GET of a route other than a health check; `query` holds the URL's parameters. */
  answer(route: Exclude<Route, { kind: 'health' }>, query: URLSearchParams): Answer {
    if (route.kind === 'document') return { code: 200, chunks: [route.body] };
    if (route.kind === 'not_found') {
      return statusAnswer(failure(404, 'NotFound', 'the server could not find the requested resource', {}));
    }
    if (query.get('watch') === 'true' || query.get('watch') === '1') {
      return statusAnswer(
        failure(
          405,
          'MethodNotAllowed',
          'the server does not allow this method on the requested resource',
          {},
        ),
      );
    }
    let labels: LabelSelector;
    let fields: FieldSelector;
    try {
      labels = parseLabelSelector(query.get('labelSelector') ?? '');
      fields = parseFieldSelector(query.get('fieldSelector') ?? '');
    } catch (error) {
      if (error instanceof SelectorError) return statusAnswer(failure(400, 'BadRequest', error.message));
      throw error;
    }
    if (route.kind === 'nodes') {
      return route.name === undefined ? this.nodeList(labels, fields) : this.node(route.name);
    }
    if (route.name !== undefined) return this.pod(route.namespace as string, route.name);
    return this.podList(route.namespace, labels, fields);
  }

  /**
   * The pod's labels from the metadata, looked up once per node batch: 150,000 lookups by namespace and name were
   * a third of a list's time. A label changed since the batch shows from the node's next batch on (one resolution
   * later), where metrics-server's informer shows it at once.
   */
  private podLabels(entry: NodeEntry, pod: number): Readonly<Record<string, string>> | undefined {
    let labels = this.labelsByEntry.get(entry);
    if (labels === undefined) this.labelsByEntry.set(entry, (labels = new Array<LabelsSlot>(entry.podCount)));
    let slot = labels[pod];
    if (slot === undefined) {
      const meta = this.metadata.pod(entry.podNamespaces[pod] as string, entry.podNames[pod] as string);
      labels[pod] = slot = meta?.labels ?? NO_LABELS;
    }
    return slot === NO_LABELS ? undefined : slot;
  }

  private writer(): MetricsJsonWriter {
    return new MetricsJsonWriter(this.now(), this.labelTexts);
  }

  private node(name: string): Answer {
    const usage = this.store.entry(name)?.nodeUsage();
    if (usage === undefined) return statusAnswer(metricsNotFound('nodemetrics', name));
    const labels = this.metadata.node(name)?.labels;
    return {
      code: 200,
      chunks: [this.writer().node(name, labels, usage, typeMeta('NodeMetrics')) + '\n'],
    };
  }

  private nodeList(labels: LabelSelector, fields: FieldSelector): Answer {
    const writer = this.writer();
    const entries = this.store.entries().sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
    const items: string[] = [];
    for (const entry of entries) {
      const usage = entry.nodeUsage();
      if (usage === undefined) continue;
      if (!fields.matches({ 'metadata.name': entry.node, 'metadata.namespace': '' })) continue;
      const nodeLabels = this.metadata.node(entry.node)?.labels;
      if (!labels.empty && !labels.matches(nodeLabels)) continue;
      items.push(writer.node(entry.node, nodeLabels, usage));
    }
    return { code: 200, chunks: [listHead('NodeMetricsList') + items.join(',') + LIST_TAIL] };
  }

  private pod(namespace: string, name: string): Answer {
    const found = this.findPod(namespace, name);
    if (found === undefined) return statusAnswer(metricsNotFound('podmetrics', `${namespace}/${name}`));
    const [entry, pod] = found;
    const labels = this.metadata.pod(namespace, name)?.labels;
    const text = this.writer().pod(entry, pod, labels, typeMeta('PodMetrics'));
    return { code: 200, chunks: [text + '\n'] };
  }

  /** The servable pod, looked up on its node when the metadata knows it, else in every node. */
  private findPod(namespace: string, name: string): [NodeEntry, number] | undefined {
    const nodeName = this.metadata.pod(namespace, name)?.nodeName;
    const onNode = nodeName === undefined ? undefined : this.store.entry(nodeName);
    const entries = onNode === undefined ? this.store.entries() : [onNode, ...this.store.entries()];
    for (const entry of entries) {
      for (let p = 0; p < entry.podCount; p++) {
        if (entry.podNames[p] === name && entry.podNamespaces[p] === namespace && entry.podServable(p)) {
          return [entry, p];
        }
      }
    }
    return undefined;
  }

  /**
   * Every servable pod in metrics-server's order (namespace, then name: pkg/api/pod.go `getMetrics`), sorted once
   * per change of the store: a list request then filters in order instead of sorting 150,000 pods.
   */
  private podOrder(): PodOrder {
    if (this.order?.version === this.store.version) return this.order;
    const entries = this.store.entries();
    const refs: number[] = [];
    for (let e = 0; e < entries.length; e++) {
      const entry = entries[e] as NodeEntry;
      for (let p = 0; p < entry.podCount; p++) if (entry.podServable(p)) refs.push(e * POD_SPAN + p);
    }
    refs.sort((a, b) => {
      const ea = entries[Math.floor(a / POD_SPAN)] as NodeEntry;
      const eb = entries[Math.floor(b / POD_SPAN)] as NodeEntry;
      const pa = a % POD_SPAN;
      const pb = b % POD_SPAN;
      const na = ea.podNamespaces[pa] as string;
      const nb = eb.podNamespaces[pb] as string;
      if (na !== nb) return na < nb ? -1 : 1;
      const ma = ea.podNames[pa] as string;
      const mb = eb.podNames[pb] as string;
      return ma < mb ? -1 : ma > mb ? 1 : 0;
    });
    this.order = { version: this.store.version, entries, refs: Float64Array.from(refs) };
    return this.order;
  }

  private podList(namespace: string | undefined, labels: LabelSelector, fields: FieldSelector): Answer {
    const { entries, refs: all } = this.podOrder();
    // Entries age out between changes of the store: checked once per entry, not per pod.
    const fresh = entries.map((e) => this.store.fresh(e));
    const refs: number[] = [];
    const wantNamespace = namespace ?? fields.namespace;
    for (let i = 0; i < all.length; i++) {
      const ref = all[i] as number;
      const e = Math.floor(ref / POD_SPAN);
      if (fresh[e] !== true) continue;
      const entry = entries[e] as NodeEntry;
      const p = ref % POD_SPAN;
      const ns = entry.podNamespaces[p] as string;
      if (wantNamespace !== undefined && ns !== wantNamespace) continue;
      const name = entry.podNames[p] as string;
      if (fields.name !== undefined && name !== fields.name) continue;
      if (!fields.matches({ 'metadata.name': name, 'metadata.namespace': ns })) continue;
      if (!labels.empty && !labels.matches(this.podLabels(entry, p))) continue;
      refs.push(ref);
    }
    return { code: 200, chunks: this.podChunks(entries, refs) };
  }

  private *podChunks(entries: readonly NodeEntry[], refs: readonly number[]): Generator<string> {
    const writer = this.writer();
    let text = listHead('PodMetricsList');
    for (let i = 0; i < refs.length; i++) {
      const ref = refs[i] as number;
      const entry = entries[Math.floor(ref / POD_SPAN)] as NodeEntry;
      const pod = ref % POD_SPAN;
      if (i > 0) text += ',';
      text += writer.pod(entry, pod, this.podLabels(entry, pod));
      if ((i + 1) % ITEMS_PER_CHUNK === 0) {
        yield text;
        text = '';
      }
    }
    yield text + LIST_TAIL;
  }
}

/** A Status failure as an answer. */
export function statusAnswer(status: StatusBody): Answer {
  return { code: status.code, chunks: [JSON.stringify(status) + '\n'] };
}
