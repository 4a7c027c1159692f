import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimCallers } from './callers.js';
import { readJsonBody, sendJson, sendStatus } from './http-json.js';

/** The front-proxy side of the aggregation layer, as kube-apiserver's --requestheader-* and --proxy-client-* flags. */
export interface FrontProxyOptions {
  /** `--requestheader-client-ca-file`: the CA that signed `client`. */
  readonly ca: Buffer;
  /** `--proxy-client-cert-file` / `--proxy-client-key-file`: presented to aggregated API servers. */
  readonly client: { readonly cert: Buffer; readonly key: Buffer };
  /** `--requestheader-allowed-names`. Default `["front-proxy-client"]`, kubeadm's. */
  readonly allowedNames?: readonly string[];
}

export const AUTH_CONFIGMAP_PATH =
  '/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication';
export const TOKEN_REVIEW_PATH = '/apis/authentication.k8s.io/v1/tokenreviews';
export const ACCESS_REVIEW_PATH = '/apis/authorization.k8s.io/v1/subjectaccessreviews';

/**
 * The `extension-apiserver-authentication` ConfigMap kube-apiserver publishes in kube-system (its
 * ClusterAuthenticationTrustController): the client CA and the request-header settings, header lists as JSON.
 */
export function authenticationConfigMap(
  clientCa: Buffer | undefined,
  frontProxy: FrontProxyOptions | undefined,
  resourceVersion: number,
): Record<string, unknown> {
  const data: Record<string, string> = {};
  if (clientCa !== undefined) data['client-ca-file'] = clientCa.toString('utf8');
  if (frontProxy !== undefined) {
    data['requestheader-client-ca-file'] = frontProxy.ca.toString('utf8');
    data['requestheader-allowed-names'] = JSON.stringify(frontProxy.allowedNames ?? ['front-proxy-client']);
    data['requestheader-username-headers'] = JSON.stringify(['X-Remote-User']);
    data['requestheader-group-headers'] = JSON.stringify(['X-Remote-Group']);
    data['requestheader-extra-headers-prefix'] = JSON.stringify(['X-Remote-Extra-']);
  }
  return {
    kind: 'ConfigMap',
    apiVersion: 'v1',
    metadata: {
      name: 'extension-apiserver-authentication',
      namespace: 'kube-system',
      resourceVersion: String(resourceVersion),
    },
    data,
  };
}

/** Answers a TokenReview from the tokens the fake server knows, as kube-apiserver's token authenticators do. */
export async function answerTokenReview(
  req: IncomingMessage,
  res: ServerResponse,
  callers: SimCallers,
): Promise<void> {
  const review = await readJsonBody(req);
  const spec = review?.spec as { token?: unknown } | undefined;
  if (review?.kind !== 'TokenReview' || typeof spec?.token !== 'string') {
    return sendStatus(res, 400, 'BadRequest', 'the body is not a TokenReview with spec.token');
  }
  const user = callers.byToken(spec.token);
  const status =
    user === undefined
      ? { authenticated: false, user: {}, error: 'invalid bearer token' }
      : {
          authenticated: true,
          user: {
            username: user.username,
            ...(user.uid === undefined ? {} : { uid: user.uid }),
            groups: [...user.groups],
          },
        };
  // kube-apiserver echoes the spec (token included) back in its answer.
  sendJson(res, 201, { ...review, apiVersion: 'authentication.k8s.io/v1', metadata: {}, status });
}

/** Answers a SubjectAccessReview: allowed, unless the user is in `denied` (then no reason, as RBAC's no-match). */
export async function answerAccessReview(
  req: IncomingMessage,
  res: ServerResponse,
  denied: ReadonlySet<string>,
  onReview: (spec: Record<string, unknown>) => void,
): Promise<void> {
  const review = await readJsonBody(req);
  const spec = review?.spec as Record<string, unknown> | undefined;
  if (review?.kind !== 'SubjectAccessReview' || spec === undefined || typeof spec.user !== 'string') {
    return sendStatus(res, 400, 'BadRequest', 'the body is not a SubjectAccessReview with spec.user');
  }
  onReview(spec);
  const allowed = !denied.has(spec.user);
  const status = allowed ? { allowed: true, reason: 'allowed by the simulator' } : { allowed: false };
  sendJson(res, 201, { ...review, apiVersion: 'authorization.k8s.io/v1', metadata: {}, status });
}
