import { existsSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { HeapstreamError } from '../component/errors.js';

/** The fixtures a simulated node can be modelled on (folders of fixtures/kubelet/). */
export const TEMPLATE_NAMES = ['nri-1.34', 'nri-1.28', 'nri-1.24'] as const;

/** A real kubelet capture: its /stats/summary, its /pods list and the API server's node list, parsed. */
export interface KubeletTemplate {
  readonly name: string;
  readonly summary: SummaryJson;
  /** pods.json items by pod uid. */
  readonly podsByUid: ReadonlyMap<string, PodJson>;
  /** The Node object of the captured node from nodes.yaml (or the first one). */
  readonly node: NodeJson | undefined;
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface SummaryJson {
  node: JsonObject & { nodeName: string; systemContainers?: JsonObject[] };
  pods: (JsonObject & {
    podRef: { name: string; namespace: string; uid: string };
    containers?: JsonObject[];
  })[];
}

export interface PodJson {
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    labels?: Record<string, string>;
    ownerReferences?: { kind: string; name: string; controller?: boolean }[];
  };
  spec: {
    containers: {
      name: string;
      image?: string;
      resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
    }[];
  };
  status?: { startTime?: string; containerStatuses?: { name: string; restartCount?: number }[] };
}

export interface NodeJson {
  metadata: { name: string; labels?: Record<string, string> };
  status?: { capacity?: Record<string, string>; allocatable?: Record<string, string> };
}

/**
 * Loads one template from the project's fixtures folder, checking the shape enough that later code can trust it.
 *
 * @example
 * const t = loadTemplate('nri-1.34');
 * t.summary.pods.length; // 18
 */
export function loadTemplate(name: string): KubeletTemplate {
  const dir = templateDirectory(name);
  const summaryFile = new URL('stats-summary.json', dir);
  const summary = readJson(summaryFile) as SummaryJson;
  if (typeof summary?.node?.nodeName !== 'string' || !Array.isArray(summary.pods)) {
    throw new HeapstreamError(
      `${summaryFile.pathname}: not a kubelet /stats/summary (no node.nodeName or pods)`,
    );
  }
  const podsByUid = new Map<string, PodJson>();
  const podsFile = new URL('pods.json', dir);
  if (existsSync(podsFile)) {
    const list = readJson(podsFile) as { items?: PodJson[] };
    for (const pod of list.items ?? []) podsByUid.set(pod.metadata.uid, pod);
  }
  let node: NodeJson | undefined;
  const nodesFile = new URL('nodes.yaml', dir);
  if (existsSync(nodesFile)) {
    const list = parseYaml(readFileSync(nodesFile, 'utf8')) as { items?: NodeJson[] };
    const items = list.items ?? [];
    node = items.find((n) => n.metadata.name === summary.node.nodeName) ?? items[0];
  }
  return { name, summary, podsByUid, node };
}

/** fixtures/kubelet/<name>/ at the package root, whether we run from src/sim (tsx, vitest) or dist/src/sim. */
function templateDirectory(name: string): URL {
  if (!/^[\w.-]+$/.test(name)) throw new HeapstreamError(`template "${name}" is not a fixture folder name`);
  for (const up of ['../../', '../../../']) {
    const dir = new URL(`${up}fixtures/kubelet/${name}/`, import.meta.url);
    if (existsSync(new URL('stats-summary.json', dir))) return dir;
  }
  throw new HeapstreamError(
    `template "${name}": no fixtures/kubelet/${name}/stats-summary.json in the package; known templates: ${TEMPLATE_NAMES.join(', ')}`,
  );
}

function readJson(file: URL): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new HeapstreamError(`${file.pathname}: cannot read JSON`, { cause: err });
  }
}
