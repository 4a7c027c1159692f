import { defineSource } from '../../src/component/component.js';
import { cadvisorSource } from './cadvisor-source.js';
import { cadvisorSourceConfig } from './config.js';

/**
 * `type: kubelet_cadvisor` — scrapes every node's cAdvisor v1 API (the kubelet's `POST /stats/container/`, or
 * standalone cAdvisor's `/api/v1.3/subcontainers/`) each cycle: Heapster's legacy `kubernetes` source.
 */
export default defineSource({
  type: 'kubelet_cadvisor',
  description:
    "Scrapes every node's cAdvisor v1 API (kubelet POST /stats/container/ or cAdvisor /api/v1.3/subcontainers/) once per cycle.",
  config: cadvisorSourceConfig,
  create: cadvisorSource,
});
