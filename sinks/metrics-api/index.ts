import { defineSink } from '../../src/component/component.js';
// TODO(issue 17): once src/kube/delegated-auth/delegated-guard.ts is merged, uncomment this import and delete the
// placeholder `createDelegatedGuard` below it. Until then `authentication: delegated` fails at connect().
// import { createDelegatedGuard } from '../../src/kube/delegated-auth/delegated-guard.js';
import { metricsApiSinkConfig } from './config.js';
import { createMetricsApiSink } from './metrics-api-sink.js';

/** Placeholder until the delegated guard is merged (see the TODO above): no guard, so no silent allow-all. */
const createDelegatedGuard = undefined;

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
