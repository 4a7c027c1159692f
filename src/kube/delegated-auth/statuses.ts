import type { GuardDecision, KubernetesStatus, RequestAttributes } from './guard.js';

type Refusal = Extract<GuardDecision, { allowed: false }>;

/**
 * A Kubernetes `Status` failure body, as apimachinery's errors package fills it; the metrics API's own errors
 * (NotFound, BadRequest…) use it too.
 *
 * @example
 * failureStatus(404, 'NotFound', 'nodemetrics.metrics.k8s.io "n1" not found', { name: 'n1', kind: 'nodemetrics' })
 */
export function failureStatus(
  code: number,
  reason: string,
  message: string,
  details?: KubernetesStatus['details'],
): KubernetesStatus {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(details === undefined ? {} : { details }),
    code,
  };
}

function refusal(
  code: Refusal['code'],
  reason: string,
  message: string,
  details?: KubernetesStatus['details'],
): Refusal {
  return { allowed: false, code, status: failureStatus(code, reason, message, details) };
}

/** What kube-apiserver answers an unauthenticated request (endpoints/handlers/responsewriters: Unauthorized). */
export function unauthorized(): Refusal {
  return refusal(401, 'Unauthorized', 'Unauthorized');
}

/**
 * The 403 kube-apiserver writes for a denied request, worded as k8s.io/apiserver's forbiddenMessage and
 * apimachinery's NewForbidden: `pods.metrics.k8s.io "x" is forbidden: User "u" cannot get resource "pods" in API
 * group "metrics.k8s.io" in the namespace "ns"`, then `: <reason>` when the authorizer gave one.
 */
export function forbidden(attributes: RequestAttributes, username: string, reason: string): Refusal {
  const because = reason === '' ? '' : `: ${reason}`;
  if (attributes.kind === 'non_resource') {
    const message = `forbidden: User "${username}" cannot ${attributes.verb} path "${attributes.path}"${because}`;
    return refusal(403, 'Forbidden', message, {});
  }
  const { group, resource, namespace, name, verb } = attributes;
  const qualified = group === '' ? resource : `${resource}.${group}`;
  const scope =
    namespace === undefined || namespace === '' ? 'at the cluster scope' : `in the namespace "${namespace}"`;
  const denial = `User "${username}" cannot ${verb} resource "${resource}" in API group "${group}" ${scope}`;
  const subject = name === undefined || name === '' ? qualified : `${qualified} "${name}"`;
  return refusal(403, 'Forbidden', `${subject} is forbidden: ${denial}${because}`, {
    ...(name === undefined || name === '' ? {} : { name }),
    group,
    kind: resource,
  });
}

/** The API server could not be asked (down, timing out, overloaded): worth retrying. */
export function serviceUnavailable(message: string): Refusal {
  return refusal(503, 'ServiceUnavailable', message);
}

/** The API server answered, but not with a review (e.g. 403 for a missing system:auth-delegator binding). */
export function internalError(message: string): Refusal {
  return refusal(500, 'InternalError', `Internal error occurred: ${message}`);
}
