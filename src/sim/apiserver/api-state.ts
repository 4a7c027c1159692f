import type { ApiObject } from './objects.js';

/** The collections the fake API server serves. */
export const RESOURCES = ['nodes', 'pods', 'namespaces', 'replicasets', 'jobs'] as const;
export type Resource = (typeof RESOURCES)[number];

export interface StoredEvent {
  readonly rv: number;
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly object: ApiObject;
  /** The object before a MODIFIED, so label-selector watches can turn it into ADDED or DELETED. */
  readonly previous?: ApiObject;
}

const HISTORY_LIMIT = 20_000;

/**
 * The fake API server's objects: one resourceVersion counter for everything (like etcd's revision), a bounded
 * event history per resource for watches that resume, and a compaction mark below which a watch gets 410 Gone.
 *
 * @example
 * const state = new ApiState();
 * state.put('nodes', nodeObject({ name: 'n1', address: '127.0.1.1', port: 10250 }));
 */
export class ApiState {
  private revision = 1;
  private readonly objects = new Map<Resource, Map<string, ApiObject>>();
  private readonly history = new Map<Resource, StoredEvent[]>();
  private readonly compactedAt = new Map<Resource, number>();
  private readonly listeners = new Set<(resource: Resource, event: StoredEvent) => void>();

  constructor() {
    for (const r of RESOURCES) {
      this.objects.set(r, new Map());
      this.history.set(r, []);
      this.compactedAt.set(r, 0);
    }
  }

  get resourceVersion(): number {
    return this.revision;
  }

  /** Adds or replaces an object (by namespace/name) and tells the watchers. Returns the stored copy. */
  put(resource: Resource, object: ApiObject): ApiObject {
    const key = keyOf(object);
    const map = this.collection(resource);
    const previous = map.get(key);
    const rv = ++this.revision;
    const stored = { ...object, metadata: { ...object.metadata, resourceVersion: String(rv) } };
    map.set(key, stored);
    this.record(resource, {
      rv,
      type: previous === undefined ? 'ADDED' : 'MODIFIED',
      object: stored,
      ...(previous === undefined ? {} : { previous }),
    });
    return stored;
  }

  /** Deletes an object; returns false if there was none. */
  delete(resource: Resource, name: string, namespace?: string): boolean {
    const key = namespace === undefined ? name : `${namespace}/${name}`;
    const map = this.collection(resource);
    const previous = map.get(key);
    if (previous === undefined) return false;
    map.delete(key);
    const rv = ++this.revision;
    this.record(resource, {
      rv,
      type: 'DELETED',
      object: { ...previous, metadata: { ...previous.metadata, resourceVersion: String(rv) } },
    });
    return true;
  }

  get(resource: Resource, name: string, namespace?: string): ApiObject | undefined {
    return this.collection(resource).get(namespace === undefined ? name : `${namespace}/${name}`);
  }

  list(resource: Resource): ApiObject[] {
    return [...this.collection(resource).entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, o]) => o);
  }

  /** Forgets history: a watch from any resourceVersion up to now gets 410 Gone and must re-list. */
  compact(): void {
    for (const r of RESOURCES) {
      this.compactedAt.set(r, this.revision);
      this.history.set(r, []);
    }
  }

  /** Events after `rv`, or `'gone'` if they were compacted away. */
  eventsSince(resource: Resource, rv: number): StoredEvent[] | 'gone' {
    if (rv < (this.compactedAt.get(resource) ?? 0)) return 'gone';
    return (this.history.get(resource) ?? []).filter((e) => e.rv > rv);
  }

  subscribe(listener: (resource: Resource, event: StoredEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private collection(resource: Resource): Map<string, ApiObject> {
    const map = this.objects.get(resource);
    if (map === undefined) throw new Error(`fake API server: unknown resource ${resource}`);
    return map;
  }

  private record(resource: Resource, event: StoredEvent): void {
    const history = this.history.get(resource) ?? [];
    history.push(event);
    if (history.length > HISTORY_LIMIT) {
      const dropped = history.splice(0, history.length - HISTORY_LIMIT);
      this.compactedAt.set(resource, dropped[dropped.length - 1]?.rv ?? 0);
    }
    this.history.set(resource, history);
    for (const listener of this.listeners) listener(resource, event);
  }
}

function keyOf(object: ApiObject): string {
  const { name, namespace } = object.metadata;
  return namespace === undefined || namespace === '' ? name : `${namespace}/${name}`;
}
