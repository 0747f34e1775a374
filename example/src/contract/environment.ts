// Settings the environment may override: file locations (for containers and tests), the listen address
// (the Helm chart and the Dockerfile set PORT and HOST), the prediction log's sinks with their addresses, and the
// API keys. Secrets only ever come from here.
import type { z } from 'zod';
import {
  fluentdTag,
  mongodbCollectionName,
  mongodbDatabaseName,
  PREDICTION_LOG_SINKS,
  type Config,
  type PredictionLogSinkName,
} from './serviceSettings.js';

/** An environment variable with a value the service cannot use; the message names it. */
export class EnvironmentError extends Error {
  override name = 'EnvironmentError';
}

/** A sink's queue (see src/predictionLog/queue.ts). */
export interface QueueSettings {
  /** Records held while the sink is slow or down; beyond this the oldest are dropped. */
  capacity: number;
  /** Most records per send(). */
  batchSize: number;
  /** How long a record may wait for a batch to fill before it is sent anyway. */
  flushIntervalMs: number;
  /** Backoff after the first failure, doubling on each failure in a row up to retryMaxMs. */
  retryInitialMs: number;
  retryMaxMs: number;
}

export interface FluentdSettings {
  host: string;
  port: number;
  tag: string;
  /** Wait for Fluentd to acknowledge each batch. */
  ack: boolean;
  /** How long a batch may take to be written (and acknowledged) before it counts as failed. */
  timeoutMs: number;
}

export interface MongodbSettings {
  /** A MongoDB connection string; credentials, if any, are in it (from the environment, never config.yaml). */
  url: string;
  db: string;
  collection: string;
  /** config.yaml's id_field: indexed, for looking a prediction up by its request id. */
  idField: string;
  /** Delete records this many days after their timestamp (a TTL index); undefined keeps them. */
  ttlDays?: number;
  /** How long to look for a reachable server (and to connect) before a batch counts as failed. */
  timeoutMs: number;
  /** Reported to the server (it shows in its logs and currentOp). */
  appName?: string;
}

/** The prediction log's settings (src/predictionLog/). */
export interface PredictionLogSettings {
  /** The sinks to log to, each at most once; empty turns logging off. */
  sinks: PredictionLogSinkName[];
  queue: QueueSettings;
  /** How long shutdown waits for the queues to empty. */
  shutdownTimeoutMs: number;
  file: { path: string };
  fluentd: FluentdSettings;
  mongodb: MongodbSettings;
}

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
    throw new EnvironmentError(`PORT must be a port number (0-65535), got ${JSON.stringify(env.PORT)}`);
  return { host: env.HOST || config.server.host, port };
}

/** A port number from the environment, or the default when the variable is unset or empty. */
function portFrom(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = env[name];
  if (!text) return fallback;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new EnvironmentError(`${name} must be a port number (1-65535), got ${JSON.stringify(text)}`);
  return port;
}

/** A name from the environment checked like the config.yaml key it overrides. */
function nameFrom(env: NodeJS.ProcessEnv, name: string, schema: z.ZodType<string>, fallback: string): string {
  const text = env[name];
  if (!text) return fallback;
  const parsed = schema.safeParse(text);
  if (!parsed.success) throw new EnvironmentError(`${name}: ${parsed.error.issues[0]?.message ?? 'invalid'}, got ${JSON.stringify(text)}`);
  return parsed.data;
}

/** PREDICTION_LOG_SINKS: a comma list such as "stdout,fluentd", or "none". */
function sinksFrom(env: NodeJS.ProcessEnv, fallback: PredictionLogSinkName[]): PredictionLogSinkName[] {
  const text = env.PREDICTION_LOG_SINKS?.trim();
  if (!text) return fallback;
  if (text === 'none') return [];
  const names = text.split(',').map((name) => name.trim());
  const unknown = names.filter((name) => !(PREDICTION_LOG_SINKS as readonly string[]).includes(name));
  if (unknown.length) {
    throw new EnvironmentError(
      `PREDICTION_LOG_SINKS: unknown sink ${unknown.map((name) => JSON.stringify(name)).join(', ')} (expected a comma list of ${PREDICTION_LOG_SINKS.join(', ')}, or none)`,
    );
  }
  return [...new Set(names as PredictionLogSinkName[])];
}

/**
 * The prediction log's settings: config.yaml's prediction_log section, overridden by PREDICTION_LOG_SINKS,
 * PREDICTION_LOG_FILE, FLUENTD_TAG and MONGODB_DB / MONGODB_COLLECTION; the addresses (FLUENTD_HOST,
 * FLUENTD_PORT, MONGODB_URL, which may carry credentials) only ever come from the environment.
 */
export function predictionLogSettings(config: Config, env: NodeJS.ProcessEnv = process.env): PredictionLogSettings {
  const log = config.prediction_log;
  return {
    sinks: sinksFrom(env, log.sinks),
    queue: {
      capacity: log.queue_size,
      batchSize: log.batch_size,
      flushIntervalMs: log.flush_interval_ms,
      retryInitialMs: log.retry_initial_ms,
      retryMaxMs: log.retry_max_ms,
    },
    shutdownTimeoutMs: log.shutdown_timeout_ms,
    file: { path: env.PREDICTION_LOG_FILE || log.file.path },
    fluentd: {
      host: env.FLUENTD_HOST || '127.0.0.1',
      port: portFrom(env, 'FLUENTD_PORT', 24224),
      tag: nameFrom(env, 'FLUENTD_TAG', fluentdTag, log.fluentd.tag ?? `${config.name}.prediction`),
      ack: log.fluentd.ack,
      timeoutMs: log.fluentd.timeout_ms,
    },
    mongodb: {
      url: env.MONGODB_URL || 'mongodb://127.0.0.1:27017',
      db: nameFrom(env, 'MONGODB_DB', mongodbDatabaseName, log.mongodb.db ?? config.name),
      collection: nameFrom(env, 'MONGODB_COLLECTION', mongodbCollectionName, log.mongodb.collection),
      idField: config.id_field,
      ...(log.mongodb.ttl_days === undefined ? {} : { ttlDays: log.mongodb.ttl_days }),
      timeoutMs: log.mongodb.timeout_ms,
      appName: config.name,
    },
  };
}

/**
 * API_KEYS: the keys clients send, a comma list (the chart fills it from its Secret, generating one when none is
 * given). Set, every path but server.auth.public_paths needs one; unset, the API is open. With config.yaml
 * server.auth.enabled and no key the service refuses to start rather than serve without a lock.
 */
export function apiKeys(config: Config, env: NodeJS.ProcessEnv = process.env): string[] {
  const keys = [...new Set((env.API_KEYS ?? '').split(',').map((key) => key.trim()))].filter((key) => key.length > 0);
  if (config.server.auth.enabled && keys.length === 0) {
    throw new EnvironmentError(
      'API_KEYS is empty but config.yaml server.auth.enabled is true: set API_KEYS to a comma list of keys (the Helm chart reads it from its Secret)',
    );
  }
  return keys;
}

/** The start-up line saying whether the API needs keys (`npm start` without API_KEYS serves it open). */
export function describeApiKeys(config: Config, keys: readonly string[]): string {
  const { header } = config.server.auth;
  return keys.length
    ? `API keys: ${keys.length} set (API_KEYS); requests need one in the ${header} header except to ${config.server.auth.public_paths.join(', ')}`
    : 'API keys: none set (API_KEYS): the API is open; set API_KEYS before deploying';
}
