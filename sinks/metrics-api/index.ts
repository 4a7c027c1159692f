import { defineSink } from '../../src/component/component.js';
import { createDelegatedGuard } from '../../src/kube/delegated-auth/delegated-guard.js';
import { metricsApiSinkConfig } from './config.js';
import { createMetricsApiSink } from './metrics-api-sink.js';

/** `type: metrics_api` — serves the latest node and pod usage as metrics.k8s.io/v1beta1 (kubectl top, the HPA). */
export default defineSink({
  type: 'metrics_api',
  description:
    'Serves the latest node and pod CPU and memory usage as the Kubernetes resource metrics API ' +
    '(metrics.k8s.io/v1beta1) over HTTPS, for kubectl top and the Horizontal Pod Autoscaler.',
  config: metricsApiSinkConfig,
  // Only node and container sets are read: the runner then hands over no cluster batches and no other sets.
  runnerDefaults: { select: { types: ['node', 'pod_container'] } },
  create: (config, ctx) => createMetricsApiSink(config, ctx, { createGuard: createDelegatedGuard }),
});
