import { writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';

export interface SimKubeconfigOptions {
  /** The API server URL, e.g. a FakeApiServer's `url`. */
  readonly server: string;
  readonly caFile?: string;
  readonly token?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
  /** Context (and cluster and user) name. Default `heapstream-sim`. */
  readonly context?: string;
}

/**
 * Writes a kubeconfig pointing at a (fake) API server, with a token and/or a client certificate. The file is
 * created mode 0600 because it holds a credential.
 *
 * @example
 * await writeSimKubeconfig('sim.kubeconfig', { server: api.url, caFile: pki.ca.certFile, token: 'sim-token' });
 * // heapstream: discovery: { kubernetes: { kubeconfig: sim.kubeconfig } }
 */
export async function writeSimKubeconfig(path: string, options: SimKubeconfigOptions): Promise<void> {
  const name = options.context ?? 'heapstream-sim';
  const user: Record<string, string> = {};
  if (options.token !== undefined) user.token = options.token;
  if (options.certFile !== undefined) user['client-certificate'] = options.certFile;
  if (options.keyFile !== undefined) user['client-key'] = options.keyFile;
  const document = {
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': name,
    clusters: [
      {
        name,
        cluster: {
          server: options.server,
          ...(options.caFile === undefined ? {} : { 'certificate-authority': options.caFile }),
        },
      },
    ],
    users: [{ name, user }],
    contexts: [{ name, context: { cluster: name, user: name } }],
  };
  await writeFile(path, stringify(document), { mode: 0o600 });
}
