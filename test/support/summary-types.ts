/**
 * The parts of the kubelet's `/stats/summary` payload (`k8s.io/kubelet/pkg/apis/stats/v1alpha1`) that
 * heapstream reads. Every field is optional or nullable because kubelet versions differ in what they send;
 * fields not listed here (usageNanoCores, interfaces, rlimit, swap, io, process_stats…) are ignored.
 * Times are RFC 3339 strings. The decoder checks these shapes at run time; the types document them and let
 * tests build payloads.
 */

export interface SummaryPayload {
  readonly node: SummaryNode;
  readonly pods?: readonly SummaryPod[] | null;
}

export interface SummaryNode {
  readonly nodeName: string;
  readonly startTime?: string | null;
  readonly cpu?: SummaryCpu | null;
  readonly memory?: SummaryMemory | null;
  readonly network?: SummaryNetwork | null;
  readonly fs?: SummaryFs | null;
  readonly systemContainers?: readonly SummaryContainer[] | null;
}

export interface SummaryPod {
  readonly podRef: { readonly name: string; readonly namespace: string; readonly uid?: string | null };
  readonly startTime?: string | null;
  readonly cpu?: SummaryCpu | null;
  readonly memory?: SummaryMemory | null;
  readonly network?: SummaryNetwork | null;
  readonly volume?: readonly SummaryVolume[] | null;
  readonly 'ephemeral-storage'?: SummaryFs | null;
  readonly containers?: readonly SummaryContainer[] | null;
}

export interface SummaryContainer {
  readonly name: string;
  readonly startTime?: string | null;
  readonly cpu?: SummaryCpu | null;
  readonly memory?: SummaryMemory | null;
  readonly rootfs?: SummaryFs | null;
  readonly logs?: SummaryFs | null;
  readonly accelerators?: readonly SummaryAccelerator[] | null;
  readonly userDefinedMetrics?: readonly SummaryUserMetric[] | null;
}

export interface SummaryCpu {
  readonly time?: string | null;
  readonly usageNanoCores?: number | null;
  readonly usageCoreNanoSeconds?: number | null;
}

export interface SummaryMemory {
  readonly time?: string | null;
  readonly usageBytes?: number | null;
  readonly workingSetBytes?: number | null;
  readonly rssBytes?: number | null;
  readonly pageFaults?: number | null;
  readonly majorPageFaults?: number | null;
}

/** The interface the kubelet reports inline (its default interface); the `interfaces` list is not read. */
export interface SummaryNetwork {
  readonly time?: string | null;
  readonly name?: string;
  readonly rxBytes?: number | null;
  readonly rxErrors?: number | null;
  readonly txBytes?: number | null;
  readonly txErrors?: number | null;
}

export interface SummaryFs {
  readonly time?: string | null;
  readonly availableBytes?: number | null;
  readonly capacityBytes?: number | null;
  readonly usedBytes?: number | null;
  readonly inodesFree?: number | null;
  readonly inodes?: number | null;
  readonly inodesUsed?: number | null;
}

export interface SummaryVolume extends SummaryFs {
  readonly name: string;
}

export interface SummaryAccelerator {
  readonly make?: string;
  readonly model?: string;
  readonly id?: string;
  readonly memoryTotal?: number;
  readonly memoryUsed?: number;
  readonly dutyCycle?: number;
}

export interface SummaryUserMetric {
  readonly name: string;
  /** `gauge`, `cumulative` or `delta`; other types are skipped. */
  readonly type: string;
  readonly units?: string;
  readonly time?: string | null;
  readonly value: number;
}
