// Helpers for the prediction log tests: settings built the way the service builds them (config.yaml section
// + environment), a server on a free port, and HTTP load on real sockets.
import type { z } from 'zod';
import { predictionLogSettings, type PredictionLogSettings } from '../../src/contract/environment.js';
import type { AnsweredPredictions } from '../../src/runtime/wireFormat.js';
import { startServer, type RunningServer } from '../../src/http/startServer.js';
import { type Spec, exampleRow, configFileSchema, type Config } from '../../src/contract/index.js';
import type { TrainedProject } from './trainedModel.js';

type PredictionLogSection = z.input<typeof configFileSchema>['prediction_log'];

/** config.yaml with its prediction_log section replaced (validated like the real file). */
export function withPredictionLog(config: Config, section: PredictionLogSection): Config {
  return { ...config, prediction_log: configFileSchema.shape.prediction_log.parse(section) };
}

/** The settings the service would use for this config.yaml section and environment. */
export function logSettings(spec: Spec, section: PredictionLogSection, env: NodeJS.ProcessEnv = {}): PredictionLogSettings {
  return predictionLogSettings(withPredictionLog(spec.config, section), env);
}

/** The real server on a free loopback port, ready to predict. */
export async function startLoggingServer(spec: Spec, modelDir: string, predictionLog: PredictionLogSettings): Promise<RunningServer> {
  const running = await startServer(spec, modelDir, { host: '127.0.0.1', port: 0 }, { predictionLog });
  await running.ready;
  return running;
}

/** The environment without the prediction log's own variables, for a server whose sinks a test sets itself. */
export function environmentWithoutPredictionLog(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const names = [
    'PREDICTION_LOG_SINKS',
    'PREDICTION_LOG_FILE',
    'FLUENTD_HOST',
    'FLUENTD_PORT',
    'FLUENTD_TAG',
    'MONGODB_URL',
    'MONGODB_DB',
    'MONGODB_COLLECTION',
  ];
  return Object.fromEntries(Object.entries(env).filter(([name]) => !names.includes(name)));
}

/** A batch request of `count` rows (ids `<prefix>-<i>`, one feature "example"), as the service hands it to the log. */
export function predictionsToLog({ spec, metadata }: TrainedProject, count: number, prefix: string): AnsweredPredictions {
  return {
    idField: spec.config.id_field,
    featureNames: ['example'],
    ids: Array.from({ length: count }, (_, i) => `${prefix}-${i}`),
    rows: Array.from({ length: count }, (_, i) => ({ example: i })),
    results: Array.from({ length: count }, () => ({ prediction: 'test' })),
    model: { version: metadata.model_version, uuid: metadata.uuid, created_at: metadata.created_at },
    apiVersion: spec.config.version,
    latencyMs: 1,
  };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits until `condition()` holds; fails after `timeoutMs` with `what` and the last value seen. */
export async function until<T>(what: string, probe: () => T, condition: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (condition(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last seen: ${JSON.stringify(value)}`);
    await sleep(20);
  }
}

/** Waits until `condition` holds for what `probe` resolves to (e.g. an HTTP answer); fails after `timeoutMs` with the last value. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T>,
  condition: (value: T) => boolean,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (condition(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last seen: ${JSON.stringify(value)}`);
    await sleep(50);
  }
}

export interface LoadResult {
  /** The ids sent, in the order their answers came back. */
  ids: string[];
  /** How many answers had each HTTP status. */
  statuses: Record<number, number>;
}

/** A POST /predict body: the project's example row with an id. */
export function predictBody(spec: Spec, id: string): string {
  return JSON.stringify({ ...exampleRow(spec.features.features), [spec.config.id_field]: id });
}

async function predictOnce(url: string, spec: Spec, id: string, result: LoadResult): Promise<void> {
  let status: number;
  try {
    const response = await fetch(`${url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: predictBody(spec, id),
    });
    await response.arrayBuffer();
    status = response.status;
  } catch {
    status = 0; // no answer at all
  }
  result.statuses[status] = (result.statuses[status] ?? 0) + 1;
  result.ids.push(id);
}

/** Sends `count` predictions with ids `${prefix}-0` …, `concurrency` at a time. */
export async function predictMany(url: string, spec: Spec, count: number, prefix: string, concurrency = 8): Promise<LoadResult> {
  const result: LoadResult = { ids: [], statuses: {} };
  let next = 0;
  const worker = async () => {
    while (next < count) await predictOnce(url, spec, `${prefix}-${next++}`, result);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return result;
}

/** Keeps sending predictions until stop(); `answered()` counts the answers so far. */
export function keepPredicting(url: string, spec: Spec, prefix: string, concurrency = 4) {
  const result: LoadResult = { ids: [], statuses: {} };
  let stopped = false;
  let next = 0;
  const worker = async () => {
    while (!stopped) await predictOnce(url, spec, `${prefix}-${next++}`, result);
  };
  const workers = Promise.all(Array.from({ length: concurrency }, worker));
  return {
    answered: () => result.ids.length,
    async stop(): Promise<LoadResult> {
      stopped = true;
      await workers;
      return result;
    },
  };
}
