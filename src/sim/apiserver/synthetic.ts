import { seededRandom } from '../random.js';
import { namespaceObject, podObject, type ApiObject } from './objects.js';

export interface SyntheticClusterOptions {
  readonly pods: number;
  readonly nodes?: number;
  readonly namespaces?: number;
  /** Mean pods per Deployment. Default 8. */
  readonly replicas?: number;
  readonly seed?: number;
}

const TEAMS = ['payments', 'search', 'checkout', 'identity', 'platform', 'data', 'ml', 'web'];
const TIERS = ['frontend', 'backend', 'cache', 'worker'];

/**
 * Generates pods shaped like a large real cluster's: Deployments of several replicas (shared labels, images and
 * resources, one pod-template-hash each), a sidecar on some, a few restarts, spread over nodes and namespaces.
 * Yields pages so callers can feed a cache the way a paged list would.
 *
 * @example
 * for (const page of syntheticPodPages({ pods: 150_000 }, 500)) page.forEach((p) => cache.pods.upsert(p));
 */
export function* syntheticPodPages(options: SyntheticClusterOptions, pageSize = 500): Generator<ApiObject[]> {
  const random = seededRandom(options.seed ?? 7);
  const nodes = options.nodes ?? 5000;
  const namespaces = options.namespaces ?? 300;
  const replicas = options.replicas ?? 8;
  let page: ApiObject[] = [];
  let made = 0;
  for (let d = 0; made < options.pods; d++) {
    const namespace = `ns-${d % namespaces}`;
    const app = `app-${d}`;
    const hash = (0x5d8f7c6b9 + d * 7919).toString(16).slice(0, 10);
    const team = TEAMS[d % TEAMS.length] ?? 'web';
    const tier = TIERS[d % TIERS.length] ?? 'backend';
    const sidecar = d % 3 === 0;
    const count = Math.min(options.pods - made, 1 + Math.floor(random() * replicas * 2));
    for (let r = 0; r < count; r++, made++) {
      page.push(
        podObject({
          namespace,
          name: `${app}-${hash}-${suffix(made)}`,
          nodeName: `node-${made % nodes}`,
          labels: { app, 'pod-template-hash': hash, team, tier, version: `v${d % 5}` },
          owner: { kind: 'ReplicaSet', name: `${app}-${hash}` },
          startTime: '2024-05-01T10:00:00Z',
          containers: [
            {
              name: 'main',
              image: `registry.example.com/${team}/${app}:1.${d % 20}.0`,
              requests: { cpu: `${100 + (d % 8) * 50}m`, memory: `${128 << (d % 4)}Mi` },
              limits: { cpu: '2', memory: `${512 << (d % 3)}Mi` },
              restarts: random() < 0.05 ? 1 + Math.floor(random() * 4) : 0,
            },
            ...(sidecar
              ? [
                  {
                    name: 'envoy',
                    image: 'envoyproxy/envoy:v1.30.1',
                    requests: { cpu: '50m', memory: '64Mi' },
                  },
                ]
              : []),
          ],
        }),
      );
      if (page.length === pageSize) {
        yield page;
        page = [];
      }
    }
  }
  if (page.length > 0) yield page;
}

/** The namespaces `syntheticPodPages` uses. */
export function syntheticNamespaces(count = 300): ApiObject[] {
  return Array.from({ length: count }, (_, i) =>
    namespaceObject(`ns-${i}`, { team: TEAMS[i % TEAMS.length] ?? 'web' }),
  );
}

function suffix(n: number): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  let text = '';
  let value = n * 2654435761;
  for (let i = 0; i < 5; i++) {
    text += alphabet[value % alphabet.length] ?? 'x';
    value = Math.floor(value / alphabet.length);
  }
  return text;
}
