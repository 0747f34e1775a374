// The spec with other server settings, and the two ways the service can serve the prediction routes, so the
// API's tests run against both: the fast path before Express's router, and Express alone.
import type { Spec, Config } from '../../src/contract/index.js';

type ServerSettings = Config['server'];

/** The spec with config.yaml server settings replaced (auth and rate_limit merged key by key). */
export function withServer(
  spec: Spec,
  settings: Partial<Omit<ServerSettings, 'auth' | 'rate_limit'>> & {
    auth?: Partial<ServerSettings['auth']>;
    rate_limit?: Partial<ServerSettings['rate_limit']>;
  },
): Spec {
  const server = spec.config.server;
  return {
    ...spec,
    config: {
      ...spec.config,
      server: {
        ...server,
        ...settings,
        auth: { ...server.auth, ...settings.auth },
        rate_limit: { ...server.rate_limit, ...settings.rate_limit },
      },
    },
  };
}

export const SERVING_PATHS = [
  { name: 'fast path', fast_path: true },
  { name: 'Express only', fast_path: false },
] as const;
