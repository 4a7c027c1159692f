import { defineSource } from '../../src/component/component.js';
import { summarySourceConfig } from './config.js';
import { summarySource } from './summary-source.js';

/** `type: kubelet_summary` — scrapes every node's kubelet Summary API (`GET /stats/summary`) each cycle. */
export default defineSource({
  type: 'kubelet_summary',
  description: "Scrapes every node's kubelet Summary API (GET /stats/summary) once per cycle.",
  config: summarySourceConfig,
  create: summarySource,
});
