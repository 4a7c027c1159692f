/**
 * Heapstream's own test data for the built-in components' tests: the shared kubelet fixtures and Heapster's
 * golden outputs beside the repository (`../shared`), and metadata built from them. What is generic (contexts,
 * set and batch builders, running a processor) is the public harness, src/testing (`heapstream/testing`).
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import {
  staticMetadata,
  type MetadataProvider,
  type NamespaceMeta,
  type NodeMeta,
  type PodMeta,
} from '../../src/component/metadata.js';
import { resourceList } from '../../src/model/quantity.js';

/** Reads a file of the shared fixtures (`../shared/fixtures` beside the repository). */
export function fixtureText(path: string): string {
  return readFileSync(new URL(`../../../shared/fixtures/${path}`, import.meta.url), 'utf8');
}

/** Reads a file of Heapster's golden outputs (`../shared/reference/heapster-golden`). */
export function goldenPoints(fixture: string): GoldenPoint[] {
  const text = readFileSync(
    new URL(`../../../shared/reference/heapster-golden/${fixture}/points.jsonl`, import.meta.url),
    'utf8',
  );
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as GoldenPoint);
}

export interface GoldenPoint {
  readonly measurement: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly value: number;
}

interface PodJson {
  metadata: {
    name: string;
    namespace?: string;
    uid: string;
    labels?: Record<string, string>;
    ownerReferences?: { kind: string; name: string; controller?: boolean }[];
  };
  spec: {
    containers: { name: string; image?: string; resources?: { requests?: unknown; limits?: unknown } }[];
  };
  status?: { startTime?: string; containerStatuses?: { name: string; restartCount?: number }[] };
}

/** PodMeta from a Kubernetes Pod object (as the metadata cache would build it; owner not resolved further). */
export function podMetaFromJson(pod: PodJson, nodeName: string): PodMeta {
  const owner = pod.metadata.ownerReferences?.find((o) => o.controller === true);
  const restartCounts: Record<string, number> = {};
  for (const s of pod.status?.containerStatuses ?? []) restartCounts[s.name] = s.restartCount ?? 0;
  return {
    namespace: pod.metadata.namespace ?? 'default',
    name: pod.metadata.name,
    uid: pod.metadata.uid,
    nodeName,
    labels: pod.metadata.labels ?? {},
    ...(pod.status?.startTime === undefined ? {} : { startTime: Date.parse(pod.status.startTime) }),
    containers: pod.spec.containers.map((c) => ({
      name: c.name,
      image: c.image ?? '',
      requests: resourceList(c.resources?.requests),
      limits: resourceList(c.resources?.limits),
    })),
    restartCounts,
    ...(owner === undefined ? {} : { owner: { kind: owner.kind, name: owner.name } }),
  };
}

/** Metadata for one real fixture folder: its pods.json and nodes.yaml, namespaces with uid `uid-<name>`. */
export function fixtureMetadata(folder: string, nodeName: string): MetadataProvider {
  const pods = (JSON.parse(fixtureText(`kubelet/${folder}/pods.json`)) as { items: PodJson[] }).items.map(
    (p) => podMetaFromJson(p, nodeName),
  );
  const nodesDoc = parseYaml(fixtureText(`kubelet/${folder}/nodes.yaml`)) as {
    items: {
      metadata: { name: string; labels?: Record<string, string> };
      status?: { capacity?: unknown; allocatable?: unknown };
    }[];
  };
  const nodes: NodeMeta[] = nodesDoc.items.map((n) => ({
    name: n.metadata.name,
    labels: n.metadata.labels ?? {},
    capacity: resourceList(n.status?.capacity),
    allocatable: resourceList(n.status?.allocatable),
  }));
  const namespaces: NamespaceMeta[] = [...new Set(pods.map((p) => p.namespace))].map((name) => ({
    name,
    uid: `uid-${name}`,
    labels: { team: `team-${name}` },
  }));
  return staticMetadata({ pods, nodes, namespaces });
}
