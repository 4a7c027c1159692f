import type { AggregatedApi } from './aggregation.js';
import { BUILT_IN_RESOURCES } from './discovery-v2.js';

/** The API groups the fake server serves itself (besides the core group), with their versions. */
const BUILT_IN_GROUPS: readonly { group: string; version: string }[] = BUILT_IN_RESOURCES.filter(
  (g) => g.group !== '',
).flatMap((g) => g.versions.map((v) => ({ group: g.group, version: v.version })));

function apiGroup(name: string, versions: readonly string[]): Record<string, unknown> {
  const list = versions.map((version) => ({ groupVersion: `${name}/${version}`, version }));
  return { name, versions: list, preferredVersion: list[0] };
}

/** `GET /api`: the legacy core-group discovery document. */
export function coreVersions(serverAddress: string): Record<string, unknown> {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

/**
 * `GET /apis` for clients that do not ask for aggregated discovery: the legacy APIGroupList, the fake server's own
 * groups and every aggregated group (kube-apiserver lists an APIService's group once the APIService is Available).
 */
export function groupList(aggregated: readonly AggregatedApi[]): Record<string, unknown> {
  const versions = new Map<string, string[]>();
  for (const { group, version } of [...BUILT_IN_GROUPS, ...aggregated]) {
    const known = versions.get(group) ?? [];
    if (!known.includes(version)) known.push(version);
    versions.set(group, known);
  }
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [...versions].map(([name, list]) => apiGroup(name, list)),
  };
}

/** `GET /apis/<group>` for an aggregated group: kube-aggregator answers it itself, from its APIServices. */
export function aggregatedGroup(
  group: string,
  aggregated: readonly AggregatedApi[],
): Record<string, unknown> | undefined {
  const versions = aggregated.filter((a) => a.group === group).map((a) => a.version);
  if (versions.length === 0) return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(group, versions) };
}
