import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { describeNode, DEFAULT_ADDRESS_TYPES } from './node-address.js';

const realNode = (
  parseYaml(
    readFileSync(new URL('../../../shared/fixtures/kubelet/nri-1.34/nodes.yaml', import.meta.url), 'utf8'),
  ) as { items: unknown[] }
).items[0];

const node = (addresses: { type: string; address: string }[], extra: Record<string, unknown> = {}) => ({
  metadata: { name: 'n1' },
  status: { addresses, conditions: [{ type: 'Ready', status: 'True' }], ...extra },
});

describe('describeNode', () => {
  it('takes the InternalIP and the advertised kubelet port of a real Node object', () => {
    const d = describeNode(realNode, { addressTypes: DEFAULT_ADDRESS_TYPES, fallbackPort: 1 });
    const raw = realNode as {
      metadata: { name: string };
      status: { addresses: { type: string; address: string }[] };
    };
    expect(d.ready).toBe(true);
    expect(d.target?.name).toBe(raw.metadata.name);
    expect(d.target?.address).toBe(raw.status.addresses.find((a) => a.type === 'InternalIP')?.address);
    expect(d.target?.port).toBe(10250);
  });

  it('follows the preference order, not the order of the addresses', () => {
    const addresses = [
      { type: 'ExternalIP', address: '203.0.113.9' },
      { type: 'Hostname', address: 'host-1' },
    ];
    expect(
      describeNode(node(addresses), { addressTypes: DEFAULT_ADDRESS_TYPES, fallbackPort: 10250 }).target
        ?.address,
    ).toBe('host-1');
    expect(
      describeNode(node(addresses), { addressTypes: ['ExternalIP'], fallbackPort: 10250 }).target?.address,
    ).toBe('203.0.113.9');
  });

  it('uses a configured port over the advertised one, and the fallback when none is advertised', () => {
    const n = node([{ type: 'InternalIP', address: '10.0.0.1' }], {
      daemonEndpoints: { kubeletEndpoint: { Port: 12345 } },
    });
    expect(describeNode(n, { addressTypes: ['InternalIP'], fallbackPort: 1 }).target?.port).toBe(12345);
    expect(describeNode(n, { addressTypes: ['InternalIP'], fallbackPort: 1, port: 10255 }).target?.port).toBe(
      10255,
    );
    const bare = node([{ type: 'InternalIP', address: '10.0.0.1' }]);
    expect(describeNode(bare, { addressTypes: ['InternalIP'], fallbackPort: 10250 }).target?.port).toBe(
      10250,
    );
  });

  it('says why a node without a preferred address is skipped', () => {
    const d = describeNode(node([{ type: 'ExternalIP', address: '203.0.113.9' }]), {
      addressTypes: ['InternalIP'],
      fallbackPort: 10250,
    });
    expect(d.target).toBeUndefined();
    expect(d.skipReason).toBe('no address of type InternalIP (it has: ExternalIP)');
  });

  it('reads readiness and the instance id from providerID', () => {
    const n = {
      metadata: { name: 'n1' },
      spec: { providerID: 'gce://project/europe-west1-b/instance-7' },
      status: {
        addresses: [{ type: 'InternalIP', address: '10.0.0.1' }],
        conditions: [{ type: 'Ready', status: 'Unknown' }],
      },
    };
    const d = describeNode(n, { addressTypes: ['InternalIP'], fallbackPort: 10250 });
    expect(d.ready).toBe(false);
    expect(d.target?.hostId).toBe('instance-7');
  });
});
