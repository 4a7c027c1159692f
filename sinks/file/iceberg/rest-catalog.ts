/**
 * A client of the Iceberg REST catalog (apache/iceberg open-api/rest-catalog-open-api.yaml): config, namespaces,
 * create and load table, commit. Only what an appending writer needs. Errors name the request and quote the
 * server's message; a 409 on commit is a CommitConflict, a 5xx or a lost connection a CommitUnknown (the commit
 * may or may not have been applied), so the caller can check before retrying.
 */
import type { IcebergField, IcebergSchema, PartitionSpec } from './table-schema.js';

export interface Snapshot {
  readonly 'snapshot-id': number | bigint;
  readonly 'parent-snapshot-id'?: number | bigint;
  readonly 'sequence-number': number;
  readonly 'timestamp-ms': number;
  readonly 'manifest-list': string;
  readonly summary: Readonly<Record<string, string>>;
  readonly 'schema-id'?: number;
}

/** The parts of table metadata this writer reads. */
export interface TableMetadata {
  readonly 'format-version': number;
  readonly location: string;
  readonly 'last-sequence-number'?: number;
  readonly 'last-column-id': number;
  readonly 'current-schema-id': number;
  readonly schemas: readonly IcebergSchema[];
  readonly 'current-snapshot-id'?: number | bigint | null;
  readonly snapshots?: readonly Snapshot[];
  readonly refs?: Readonly<
    Record<string, { readonly 'snapshot-id': number | bigint; readonly type: string }>
  >;
}

export type TableRequirement =
  | { readonly type: 'assert-ref-snapshot-id'; readonly ref: string; readonly 'snapshot-id': bigint | null }
  | { readonly type: 'assert-current-schema-id'; readonly 'current-schema-id': number }
  | { readonly type: 'assert-last-assigned-field-id'; readonly 'last-assigned-field-id': number };

export type TableUpdate =
  | { readonly action: 'add-schema'; readonly schema: IcebergSchema; readonly 'last-column-id': number }
  | { readonly action: 'set-current-schema'; readonly 'schema-id': number }
  | { readonly action: 'add-snapshot'; readonly snapshot: Record<string, unknown> }
  | {
      readonly action: 'set-snapshot-ref';
      readonly 'ref-name': string;
      readonly type: 'branch';
      readonly 'snapshot-id': bigint;
    };

/** The server refused the commit because a requirement failed (409): nothing was applied. */
export class CommitConflict extends Error {}
/** The commit's outcome is unknown (5xx, lost connection): reload the table to see whether it was applied. */
export class CommitUnknown extends Error {}

export interface RestCatalogOptions {
  readonly uri: string;
  readonly warehouse?: string;
  /** A bearer token (read from where the config says, never inline). */
  readonly token?: string;
  /**
   * OAuth2 client credentials `client_id:client_secret`, exchanged at `/v1/oauth/tokens` for a token (what
   * pyiceberg calls `credential`; SeaweedFS takes the S3 access key and secret).
   */
  readonly credential?: string;
  readonly fetch?: typeof fetch;
  /** Each request's limit; a catalog that does not answer must not hold the sink forever. 30 s by default. */
  readonly timeoutMs?: number;
}

/** Marks a 64-bit integer while it passes through JSON as a string. */
const BIG = '#heapstream-int64#';

/** JSON with 64-bit snapshot ids: numbers beyond 2^53 are kept exact as bigint. */
function parseJson(text: string): unknown {
  // Quote long integers before parsing, then turn the marked strings back into bigints.
  const marked = text.replace(/([:[,]\s*)(-?\d{16,})(?=\s*[,\]}])/g, `$1"${BIG}$2"`);
  return JSON.parse(marked, (_key, value: unknown) =>
    typeof value === 'string' && value.startsWith(BIG) ? BigInt(value.slice(BIG.length)) : value,
  );
}

function toJson(value: unknown): string {
  // bigint ids are written as bare JSON numbers, which the REST spec's int64 fields expect.
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'bigint' ? `${BIG}${v.toString()}` : v,
  ).replaceAll(new RegExp(`"${BIG}(-?\\d+)"`, 'g'), '$1');
}

/**
 * @example
 * const catalog = new RestCatalog({ uri: 'http://127.0.0.1:8181', warehouse: 's3://lake' });
 * await catalog.init(); const table = await catalog.loadTable(['metrics'], 'sets');
 */
export class RestCatalog {
  private prefix = '';
  private readonly fetch: typeof fetch;
  private token: string | undefined;

  constructor(private readonly options: RestCatalogOptions) {
    this.fetch = options.fetch ?? fetch;
    this.token = options.token;
  }

  /** Exchanges the client credential for a token (client_credentials grant). */
  private async fetchToken(): Promise<void> {
    const credential = this.options.credential;
    if (credential === undefined) return;
    const colon = credential.indexOf(':');
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: colon < 0 ? '' : credential.slice(0, colon),
      client_secret: colon < 0 ? credential : credential.slice(colon + 1),
      scope: 'catalog',
    });
    const url = `${this.base()}/v1/oauth/tokens`;
    const response = await this.fetch(url, {
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form.toString(),
    });
    const text = await response.text();
    if (!response.ok) {
      throw new Error(
        `iceberg catalog: POST /v1/oauth/tokens answered ${response.status}: ${text.slice(0, 300)}`,
      );
    }
    const token = (JSON.parse(text) as { access_token?: unknown }).access_token;
    if (typeof token !== 'string') throw new Error('iceberg catalog: /v1/oauth/tokens gave no access_token');
    this.token = token;
  }

  private base(): string {
    return this.options.uri.replace(/\/+$/, '');
  }

  /** GET /v1/config: the server's overrides (the path prefix) for this warehouse. */
  async init(): Promise<void> {
    const query =
      this.options.warehouse !== undefined ? `?warehouse=${encodeURIComponent(this.options.warehouse)}` : '';
    const config = (await this.request('GET', `/v1/config${query}`)) as {
      overrides?: Record<string, string>;
      defaults?: Record<string, string>;
    };
    const prefix = config.overrides?.prefix ?? config.defaults?.prefix;
    this.prefix = prefix !== undefined && prefix !== '' ? `/${prefix}` : '';
  }

  async ensureNamespace(namespace: readonly string[]): Promise<void> {
    const status = await this.status('HEAD', `/v1${this.prefix}/namespaces/${nsPath(namespace)}`);
    if (status === 204 || status === 200) return;
    const response = await this.send('POST', `/v1${this.prefix}/namespaces`, { namespace, properties: {} });
    const text = await response.text().catch(() => '');
    // 409: created meanwhile by someone else, which is as good.
    if (response.status !== 200 && response.status !== 409) {
      throw new Error(
        `iceberg catalog: POST /v1${this.prefix}/namespaces (${namespace.join('.')}) answered ${response.status}: ${text.slice(0, 300)}`,
      );
    }
  }

  /** The table's metadata, or undefined if there is no such table. */
  async loadTable(namespace: readonly string[], name: string): Promise<TableMetadata | undefined> {
    const path = `${this.tablePath(namespace, name)}`;
    const result = await this.request('GET', path, undefined, [404]);
    if (result === undefined) return undefined;
    return (result as { metadata: TableMetadata }).metadata;
  }

  async createTable(
    namespace: readonly string[],
    name: string,
    table: {
      schema: IcebergSchema;
      spec: PartitionSpec;
      location?: string;
      properties?: Record<string, string>;
    },
  ): Promise<TableMetadata> {
    const body = {
      name,
      schema: table.schema,
      'partition-spec': table.spec,
      'write-order': { 'order-id': 0, fields: [] },
      ...(table.location !== undefined ? { location: table.location } : {}),
      properties: { 'format-version': '2', ...table.properties },
    };
    const result = await this.request(
      'POST',
      `/v1${this.prefix}/namespaces/${nsPath(namespace)}/tables`,
      body,
      [409],
    );
    if (result === undefined) {
      // Created meanwhile: load what is there.
      const existing = await this.loadTable(namespace, name);
      if (existing === undefined)
        throw new Error(`iceberg catalog: table ${name} exists and cannot be loaded`);
      return existing;
    }
    return (result as { metadata: TableMetadata }).metadata;
  }

  /** POST the commit. Resolves with the new metadata; throws CommitConflict (409) or CommitUnknown. */
  async commit(
    namespace: readonly string[],
    name: string,
    requirements: readonly TableRequirement[],
    updates: readonly TableUpdate[],
  ): Promise<TableMetadata> {
    const path = this.tablePath(namespace, name);
    let response: Response;
    try {
      response = await this.send('POST', path, {
        identifier: { namespace, name },
        requirements,
        updates,
      });
    } catch (err) {
      throw new CommitUnknown(`iceberg catalog: POST ${path} failed: ${String(err)}`, { cause: err });
    }
    const text = await response.text().catch(() => '');
    if (response.status === 200) return (parseJson(text) as { metadata: TableMetadata }).metadata;
    const message = `iceberg catalog: POST ${path} answered ${response.status}: ${text.slice(0, 500)}`;
    if (response.status === 409) throw new CommitConflict(message);
    if (response.status >= 500) throw new CommitUnknown(message);
    throw new Error(message);
  }

  private tablePath(namespace: readonly string[], name: string): string {
    return `/v1${this.prefix}/namespaces/${nsPath(namespace)}/tables/${encodeURIComponent(name)}`;
  }

  private async send(method: string, path: string, body?: unknown): Promise<Response> {
    if (this.token === undefined) await this.fetchToken();
    const response = await this.sendOnce(method, path, body);
    // 401: the token expired; one fresh token and one more try.
    if (response.status !== 401 || this.options.credential === undefined) return response;
    await response.text().catch(() => '');
    await this.fetchToken();
    return this.sendOnce(method, path, body);
  }

  private sendOnce(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.token !== undefined) headers.authorization = `Bearer ${this.token}`;
    return this.fetch(`${this.base()}${path}`, {
      method,
      headers,
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
      ...(body !== undefined ? { body: toJson(body) } : {}),
    });
  }

  private async status(method: string, path: string, body?: unknown): Promise<number> {
    const response = await this.send(method, path, body);
    await response.text().catch(() => '');
    return response.status;
  }

  private async request(
    method: string,
    path: string,
    body?: unknown,
    absent: number[] = [],
  ): Promise<unknown> {
    const response = await this.send(method, path, body);
    const text = await response.text();
    if (absent.includes(response.status)) return undefined;
    if (!response.ok) {
      throw new Error(
        `iceberg catalog: ${method} ${path} answered ${response.status}: ${text.slice(0, 500)}`,
      );
    }
    return parseJson(text);
  }
}

/** Namespace levels joined by the unit separator, as the spec asks for multi-level namespaces. */
function nsPath(namespace: readonly string[]): string {
  return encodeURIComponent(namespace.join('\u001f'));
}

/** The schema fields of a table's current schema. */
export function currentSchema(table: TableMetadata): IcebergSchema {
  const schema = table.schemas.find((s) => s['schema-id'] === table['current-schema-id']);
  if (schema === undefined) throw new Error('iceberg: table metadata has no current schema');
  return schema;
}

export type { IcebergField };
