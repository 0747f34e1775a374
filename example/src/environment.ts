// Settings the environment may override: file locations (for containers and tests) and the listen
// address (the Helm chart and the Dockerfile set PORT and HOST). Secrets only ever come from here.
import type { Config } from './spec/schema.js';

export interface ProjectPaths {
  features: string;
  config: string;
  modelDir: string;
}

export function projectPaths(env: NodeJS.ProcessEnv = process.env): ProjectPaths {
  return {
    features: env.FEATURES_PATH || 'features.yaml',
    config: env.CONFIG_PATH || 'config.yaml',
    modelDir: env.MODEL_DIR || 'model_bin',
  };
}

export function listenAddress(config: Config, env: NodeJS.ProcessEnv = process.env): { host: string; port: number } {
  const port = env.PORT ? Number(env.PORT) : config.server.port;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`PORT must be a port number (0-65535), got ${JSON.stringify(env.PORT)}`);
  return { host: env.HOST || config.server.host, port };
}
