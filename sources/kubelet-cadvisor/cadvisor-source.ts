import type { Observable } from 'rxjs';
import type { SourceContext } from '../../src/component/component.js';
import type { Tick } from '../../src/component/clock.js';
import { kubeletSource, nodeInfo } from '../../src/kube/kubelet-source.js';
import { parseJsonBody } from '../../src/kube/node-scraper.js';
import type { PipelineEvent } from '../../src/model/types.js';
import { cadvisorEndpoint, type CadvisorSourceConfig } from './config.js';
import { decodeContainerInfos } from './decode.js';

/**
 * The cAdvisor v1 request body for one cycle: the root container and all its subcontainers, samples in the
 * window [tick − resolution, tick]. The kubelet reads every field; standalone cAdvisor reads num_stats, start
 * and end (the container comes from the path).
 *
 * @example
 * statsRequestBody({ cycle: 2, time: 30_000 }, 15_000, 1)
 * // '{"containerName":"/","num_stats":1,"start":"1970-01-01T00:00:15.000Z","end":"1970-01-01T00:00:30.000Z","subcontainers":true}'
 */
export function statsRequestBody(tick: Tick, resolutionMs: number, numStats: number): string {
  const start = new Date(tick.time - resolutionMs).toISOString();
  const end = new Date(tick.time).toISOString();
  return `{"containerName":"/","num_stats":${numStats},"start":"${start}","end":"${end}","subcontainers":true}`;
}

/**
 * Scrapes every known node's cAdvisor v1 API once per tick (the kubelet's `POST /stats/container/`, or
 * standalone cAdvisor's `/api/v1.3/subcontainers/`), emitting each node's batch as soon as it is decoded.
 */
export function cadvisorSource(config: CadvisorSourceConfig, ctx: SourceContext): Observable<PipelineEvent> {
  const endpoint = cadvisorEndpoint(config);
  const numStats = config.samples === 'last' ? 1 : config.max_samples;
  const settings = { ...config, scheme: endpoint.scheme, port: endpoint.port };
  return kubeletSource(settings, ctx, (client) => async (node, tick, signal, report) => {
    const body = statsRequestBody(tick, ctx.resolutionMs, numStats);
    const text = await client.post(node, endpoint.path, body, signal);
    return decodeContainerInfos(
      parseJsonBody(text, endpoint.path),
      nodeInfo(node),
      config.samples,
      config.system_containers,
      { report, maxSets: config.max_sets_per_node },
    );
  });
}
