import type { Telemetry } from '../component/telemetry.js';
import type { Clock } from '../component/clock.js';
import type { Logger } from '../component/logger.js';
import { redact } from '../component/redact.js';
import { ApiError, type ApiClient } from './api-client.js';
import { causeChain } from './cause-chain.js';

/** Raw Kubernetes object as the API server sent it; stores keep only the fields they need. */
export type KubeObject = Record<string, unknown>;

/**
 * Where a reflector puts what it lists and watches. A (re-)list upserts page by page — so 150,000 pods never sit
 * in memory as raw JSON all at once — then `retain` drops whatever the list no longer had.
 */
export interface ReflectorStore {
  upsert(object: KubeObject): void;
  remove(object: KubeObject): void;
  /** After a complete list: keeps only the objects whose key (`namespace/name`, or `name`) is in `keys`. */
  retain(keys: ReadonlySet<string>): void;
}

/** The key `retain` gets for an object: `namespace/name`, or `name` for cluster-scoped objects. */
export function objectKey(object: KubeObject): string {
  const meta = (object.metadata ?? {}) as { name?: string; namespace?: string };
  return meta.namespace === undefined || meta.namespace === ''
    ? (meta.name ?? '')
    : `${meta.namespace}/${meta.name ?? ''}`;
}

export interface ReflectorOptions {
  readonly api: ApiClient;
  /** Collection path, e.g. `/api/v1/nodes` or `/apis/apps/v1/replicasets`. */
  readonly path: string;
  readonly labelSelector?: string;
  readonly store: ReflectorStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
  /** Counts re-lists in `heapstream_watch_restarts_total{path,reason}` when given. */
  readonly telemetry?: Telemetry;
  /** How long the server keeps one watch open before we re-watch from the last resourceVersion. */
  readonly watchTimeoutSeconds?: number;
  readonly pageSize?: number;
}

export interface ReflectorStatus {
  readonly synced: boolean;
  readonly lists: number;
  readonly lastListAt?: number;
  readonly lastError?: string;
}

/**
 * Keeps a store in step with one API collection: list (paged), then watch from the list's resourceVersion.
 * A watch that the server ends is resumed; a 410 Gone (expired resourceVersion) re-lists at once; any other
 * error or a dropped connection re-lists after an exponential backoff, so a broken watch never leaves the
 * store stale for good. `start()` resolves after the first list; 401/403 there reject it (retrying cannot help).
 *
 * @example
 * const r = new Reflector({ api, path: '/api/v1/nodes', store, clock, logger });
 * await r.start(); … await r.stop();
 */
export class Reflector {
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private state: { synced: boolean; lists: number; lastListAt?: number; lastError?: string } = {
    synced: false,
    lists: 0,
  };

  constructor(private readonly options: ReflectorOptions) {}

  start(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.running = this.run(resolve, reject);
    });
  }

  status(): ReflectorStatus {
    return { ...this.state };
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }

  private async run(onFirstList: () => void, onFatal: (err: Error) => void): Promise<void> {
    const { logger, path } = this.options;
    const backoff = this.options.backoff ?? { initialMs: 500, maxMs: 30_000 };
    let failures = 0;
    let first = true;
    while (!this.abort.signal.aborted) {
      let relistAtOnce = false;
      try {
        let version = await this.list();
        if (first) onFirstList();
        first = false;
        for (;;) {
          const opened = this.options.clock.now();
          const outcome = await this.watch(version, () => (failures = 0));
          if (outcome.kind === 'gone') {
            logger.info({ path }, `${path}: watch resourceVersion expired (410 Gone); re-listing`);
            this.countRestart('gone');
            relistAtOnce = true;
            break;
          }
          // A server that ends every watch at once would otherwise be asked again in a tight loop.
          if (outcome.events === 0 && this.options.clock.now() - opened < 1000) {
            await sleep(backoff.initialMs, this.options.clock, this.abort.signal);
          }
          version = outcome.version;
        }
      } catch (err) {
        if (this.abort.signal.aborted) return;
        if (err instanceof ApiError && err.status === 410) {
          this.countRestart('gone');
          relistAtOnce = true;
        } else {
          this.countRestart('error');
          const message = causeChain(err);
          this.state = { ...this.state, synced: false, lastError: message };
          if (first && err instanceof ApiError && (err.status === 401 || err.status === 403)) {
            onFatal(err);
            return;
          }
          failures++;
          const delay = Math.min(backoff.maxMs, backoff.initialMs * 2 ** (failures - 1));
          logger.warn({ path, retryInMs: delay }, `${path}: list/watch failed, re-listing: ${message}`);
          await sleep(delay, this.options.clock, this.abort.signal);
        }
      }
      if (relistAtOnce) this.state = { ...this.state, synced: false };
    }
  }

  private countRestart(reason: 'gone' | 'error'): void {
    this.options.telemetry
      ?.counter('heapstream_watch_restarts_total', { path: this.options.path, reason })
      .inc();
  }

  /** Lists every page, hands the whole set to the store, and returns the list's resourceVersion. */
  private async list(): Promise<string> {
    const { api, path, store } = this.options;
    const keys = new Set<string>();
    let continueToken: string | undefined;
    let version = '';
    do {
      const query = new URLSearchParams({ limit: String(this.options.pageSize ?? 500) });
      if (this.options.labelSelector !== undefined) query.set('labelSelector', this.options.labelSelector);
      if (continueToken !== undefined) query.set('continue', continueToken);
      const page = await api.getJson(`${path}?${query.toString()}`, this.abort.signal);
      const meta = (page.metadata ?? {}) as { resourceVersion?: string; continue?: string };
      if (Array.isArray(page.items)) {
        for (const item of page.items as KubeObject[]) {
          keys.add(objectKey(item));
          store.upsert(item);
        }
      }
      version = meta.resourceVersion ?? version;
      continueToken = meta.continue === undefined || meta.continue === '' ? undefined : meta.continue;
    } while (continueToken !== undefined);
    store.retain(keys);
    this.state = { synced: true, lists: this.state.lists + 1, lastListAt: this.options.clock.now() };
    return version;
  }

  private async watch(
    version: string,
    onHealthy: () => void,
  ): Promise<{ kind: 'ended'; version: string; events: number } | { kind: 'gone' }> {
    const { api, path, store } = this.options;
    const query = new URLSearchParams({
      watch: '1',
      resourceVersion: version,
      allowWatchBookmarks: 'true',
      timeoutSeconds: String(this.options.watchTimeoutSeconds ?? 300),
    });
    if (this.options.labelSelector !== undefined) query.set('labelSelector', this.options.labelSelector);
    let current = version;
    let events = 0;
    for await (const event of api.watch(`${path}?${query.toString()}`, this.abort.signal)) {
      if (event.type === 'ERROR') {
        const status = event.object as { code?: number; message?: string };
        if (status.code === 410) return { kind: 'gone' };
        throw new ApiError(status.code ?? 0, `watch ${path}: ${redact(status.message ?? 'error event')}`);
      }
      const next = resourceVersionOf(event.object);
      if (next !== undefined) current = next;
      if (event.type === 'ADDED' || event.type === 'MODIFIED') store.upsert(event.object);
      else if (event.type === 'DELETED') store.remove(event.object);
      events++;
      onHealthy();
    }
    if (this.abort.signal.aborted) throw new ApiError(0, 'stopped');
    return { kind: 'ended', version: current, events };
  }
}

function resourceVersionOf(object: KubeObject): string | undefined {
  const meta = object.metadata as { resourceVersion?: unknown } | undefined;
  return typeof meta?.resourceVersion === 'string' ? meta.resourceVersion : undefined;
}

function sleep(ms: number, clock: Clock, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const task = clock.scheduler.schedule(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      task.unsubscribe();
      resolve();
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
