/**
 * Helpers shared by the cAdvisor JSON and Prometheus decoders: Kubernetes' cgroup names and the node's labels.
 */
import { LABEL } from '../../model/labels.js';

/** The node a payload was scraped from, as discovery knows it. */
export interface NodeInfo {
  readonly name: string;
  /** The node's Hostname address; defaults to the node name. */
  readonly hostname?: string;
  /** The node's external id; the `host_id` label is set only when it is known. */
  readonly hostId?: string;
}

/**
 * The labels every set of a node carries (Heapster's nodename, hostname, host_id), empty values left out.
 *
 * @example
 * hostLabels({ name: 'n1' }) // { nodename: 'n1', hostname: 'n1' }
 */
export function hostLabels(node: NodeInfo): Record<string, string> {
  const labels: Record<string, string> = {};
  if (node.name !== '') labels[LABEL.nodename] = node.name;
  const hostname = node.hostname === undefined || node.hostname === '' ? node.name : node.hostname;
  if (hostname !== '') labels[LABEL.hostname] = hostname;
  if (node.hostId !== undefined && node.hostId !== '') labels[LABEL.hostId] = node.hostId;
  return labels;
}

/**
 * The pod uid a pod-level cgroup is named after, or undefined for any other cgroup. Knows the cgroupfs form
 * (`/kubepods/burstable/pod<uid>`) and the systemd form (`/kubepods.slice/…/kubepods-burstable-pod<uid_with_underscores>.slice`).
 *
 * @example
 * podUidOfCgroup('/kubepods/besteffort/pod18fd9786-3677-45c4-9def-060a4b25f1db') // '18fd9786-3677-45c4-9def-060a4b25f1db'
 */
export function podUidOfCgroup(name: string): string | undefined {
  const slash = name.lastIndexOf('/');
  let last = name.slice(slash + 1);
  if (last.endsWith('.slice')) {
    const pod = last.lastIndexOf('-pod');
    if (pod < 0) return undefined;
    last = last.slice(pod + 4, last.length - 6).replaceAll('_', '-');
    return last === '' ? undefined : last;
  }
  if (!last.startsWith('pod') || last.length <= 3) return undefined;
  // Only a cgroup whose parent is a kubepods cgroup is a pod's; `pod` alone could name anything.
  if (!name.includes('kubepods')) return undefined;
  return last.slice(3);
}

/** Heapster's system container name: the cgroup (or its first alias) without the leading `/`. */
export function systemContainerName(name: string): string {
  return name.charCodeAt(0) === 47 /* / */ ? name.slice(1) : name;
}

/**
 * How system containers are named: `cgroup` (Heapster's legacy source: every other cgroup, by its name),
 * `summary` (only the ones the Summary API reports, under its names, so both sources make the same sets),
 * or `none`.
 */
export type SystemContainerNaming = 'cgroup' | 'summary' | 'none';

// `docker-daemon` is the alias old kubelets gave the runtime's cgroup.
const RUNTIME_SERVICES = new Set(['containerd', 'docker', 'crio', 'cri-o', 'docker-daemon']);

/**
 * The system container name of a cgroup under a naming mode, or undefined when the cgroup is left out. In
 * `summary` mode the kubelet's cgroups get the Summary API's names as the summary source maps them:
 * `/kubepods` → `pods`, the kubelet → `kubelet`, the container runtime → `docker-daemon`.
 *
 * @example
 * systemContainerNameFor('/system.slice/kubelet.service', 'summary') // 'kubelet'
 * systemContainerNameFor('/kubepods/burstable', 'summary')           // undefined
 */
export function systemContainerNameFor(cgroup: string, naming: SystemContainerNaming): string | undefined {
  if (naming === 'cgroup') return systemContainerName(cgroup);
  if (naming === 'none') return undefined;
  if (cgroup === '/kubepods' || cgroup === '/kubepods.slice') return 'pods';
  let last = cgroup.slice(cgroup.lastIndexOf('/') + 1);
  if (last.endsWith('.service')) last = last.slice(0, -8);
  if (last === 'kubelet') return 'kubelet';
  if (RUNTIME_SERVICES.has(last)) return 'docker-daemon';
  return undefined;
}
