/**
 * The fake Kubernetes API server of the simulator: list + watch of nodes, pods, namespaces, ReplicaSets and
 * Jobs, with churn, fault injection and the node proxy path; TokenReview, SubjectAccessReview, the
 * extension-apiserver-authentication ConfigMap and an aggregation layer proxying APIServices.
 *
 * @example
 * import { startFakeApiServer, nodeObject } from './sim/apiserver/index.js';
 * const api = await startFakeApiServer();
 * api.state.put('nodes', nodeObject({ name: 'n1', address: '127.0.1.1', port: 10250 }));
 */
export { ApiState, RESOURCES, type Resource, type StoredEvent } from './api-state.js';
export { labelSelector } from './label-selector.js';
export {
  controllerObject,
  namespaceObject,
  nodeObject,
  podObject,
  type ApiObject,
  type ContainerSpec,
  type NodeSpec,
  type PodSpec,
} from './objects.js';
export {
  startFakeApiServer,
  type FakeApiServer,
  type FakeApiServerOptions,
  type ServedKind,
} from './server.js';
export { type AggregatedApi } from './aggregation.js';
export { DEFAULT_TOKEN_USER, type SimUser } from './callers.js';
export { type FrontProxyOptions } from './delegation.js';
export { writeSimKubeconfig, type SimKubeconfigOptions } from './kubeconfig.js';
export {
  startSimulatedControlPlane,
  type SimulatedControlPlane,
  type SimulatedControlPlaneOptions,
} from './control-plane.js';
export { syntheticNamespaces, syntheticPodPages, type SyntheticClusterOptions } from './synthetic.js';
