import type { NodeTarget } from '../component/node-target.js';

/** The address types tried, in order, when `address_types` is not given. */
export const DEFAULT_ADDRESS_TYPES = ['InternalIP', 'Hostname', 'ExternalIP'] as const;

/** What discovery keeps of a Node object: enough to scrape it and to say why it is skipped. */
export interface DiscoveredNode {
  readonly name: string;
  /** Undefined when the node has none of the preferred address types. */
  readonly target: NodeTarget | undefined;
  readonly ready: boolean;
  /** Why the node is not scraped, when it is not. */
  readonly skipReason?: string;
}

interface NodeObject {
  metadata?: { name?: string; labels?: Record<string, string> };
  spec?: { providerID?: string };
  status?: {
    addresses?: { type?: string; address?: string }[];
    daemonEndpoints?: { kubeletEndpoint?: { Port?: number } };
    conditions?: { type?: string; status?: string }[];
  };
}

export interface NodeSelection {
  /** Address types in order of preference, e.g. ['InternalIP', 'Hostname', 'ExternalIP']. */
  readonly addressTypes: readonly string[];
  /** Fixed kubelet port; otherwise the node's daemonEndpoints port, then `fallbackPort`. */
  readonly port?: number;
  readonly fallbackPort: number;
}

/**
 * Turns a Node object into a scrape target: the first address whose type comes earliest in the preference
 * list, the kubelet port from `status.daemonEndpoints.kubeletEndpoint.Port` unless one is configured, and the
 * Ready condition. `host_id` is the instance id at the end of `spec.providerID`, as Heapster did.
 *
 * @example
 * describeNode(nodeJson, { addressTypes: ['InternalIP'], fallbackPort: 10250 }).target?.address; // '10.0.0.5'
 */
export function describeNode(object: unknown, selection: NodeSelection): DiscoveredNode {
  const node = object as NodeObject;
  const name = node.metadata?.name ?? '';
  const addresses = node.status?.addresses ?? [];
  let address: string | undefined;
  for (const wanted of selection.addressTypes) {
    address = addresses.find(
      (a) => a.type === wanted && a.address !== undefined && a.address !== '',
    )?.address;
    if (address !== undefined) break;
  }
  const ready = isReady(node);
  const hostname = addresses.find((a) => a.type === 'Hostname')?.address;
  const hostId = instanceId(node.spec?.providerID);
  const advertised = node.status?.daemonEndpoints?.kubeletEndpoint?.Port;
  const port =
    selection.port ?? (advertised !== undefined && advertised > 0 ? advertised : selection.fallbackPort);
  if (address === undefined) {
    const has = addresses.map((a) => a.type).join(', ') || 'none';
    return {
      name,
      target: undefined,
      ready,
      skipReason: `no address of type ${selection.addressTypes.join(' or ')} (it has: ${has})`,
    };
  }
  return {
    name,
    ready,
    target: {
      name,
      address,
      port,
      ...(hostname === undefined ? {} : { hostname }),
      ...(hostId === undefined ? {} : { hostId }),
    },
  };
}

function isReady(node: NodeObject): boolean {
  const condition = node.status?.conditions?.find((c) => c.type === 'Ready');
  return condition?.status === 'True';
}

function instanceId(providerId: string | undefined): string | undefined {
  if (providerId === undefined || providerId === '') return undefined;
  const slash = providerId.lastIndexOf('/');
  return slash >= 0 ? providerId.slice(slash + 1) : providerId;
}
