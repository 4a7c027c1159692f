import type { LogLimiter } from '../../component/log-limiter.js';
import type { ApiClient } from '../api-client.js';
import { AUTH_CONFIGMAP_PATH, parseAuthenticationConfig, type AuthenticationConfig } from './auth-config.js';

/**
 * Keeps the latest `extension-apiserver-authentication` ConfigMap, re-read every `refreshMs` so rotated CAs and
 * changed allowed names take effect without a restart (k8s.io/apiserver re-reads it on a timer and on watch events).
 * A failed read or an unparsable ConfigMap keeps the last good configuration; it is logged and counted.
 */
export class AuthConfigSource {
  private config: AuthenticationConfig | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly api: ApiClient,
    private readonly limiter: LogLimiter,
    private readonly onError: () => void,
    private readonly signal: AbortSignal,
  ) {}

  /** The configuration, undefined until the ConfigMap was read once. */
  get current(): AuthenticationConfig | undefined {
    return this.config;
  }

  start(refreshMs: number): void {
    this.timer = setInterval(() => void this.load(), refreshMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Reads the ConfigMap once; resolves whether or not that worked (the failure is logged). */
  async load(): Promise<void> {
    const key = 'delegated-auth:configmap';
    try {
      const configMap = await this.api.getJson(
        AUTH_CONFIGMAP_PATH,
        AbortSignal.any([this.signal, timeout()]),
      );
      const data = (configMap.data ?? {}) as Record<string, unknown>;
      this.config = parseAuthenticationConfig(data);
      this.limiter.clear(key);
    } catch (err) {
      if (this.signal.aborted) return;
      this.onError();
      this.limiter.log(
        'warn',
        key,
        { err: (err as Error).message },
        `cannot read kube-system/extension-apiserver-authentication; ${
          this.config === undefined
            ? 'client certificates and front-proxy requests are refused until it can be read'
            : 'keeping the last one read'
        }`,
      );
    }
  }
}

/** How long one API request to the API server may take before the guard gives up on it. */
export const API_TIMEOUT_MS = 10_000;

export function timeout(): AbortSignal {
  return AbortSignal.timeout(API_TIMEOUT_MS);
}
