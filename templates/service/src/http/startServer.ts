// Starts the HTTP server for a spec and a model directory: listens first (so /health answers at once),
// then loads and warms up the model (then /ready turns 200). Used by server.ts and by tests.
import { createServer, type Server } from 'node:http';
import { Server as NetServer } from 'node:net';
import { ModelLoadError } from '../model/artifacts.js';
import { MongoPredictionLookup } from '../monitoring/index.js';
import { PredictionLog } from '../predictionLog/index.js';
import type { Spec } from '../contract/index.js';
import { apiKeys, type PredictionLogSettings } from '../contract/environment.js';
import { createRequestListener, type ModelState } from './app.js';
import { ModelLifecycle, type ReloadRequest } from '../runtime/modelLifecycle.js';
import { ConnectionGuard, serverOptions } from './connections.js';

export interface RunningServer {
  server: Server;
  /** The open connections and the server.max_connections cap on them. */
  connections: ConnectionGuard;
  url: string;
  /** Resolves when the model is loaded and warmed up; rejects with a ModelLoadError when it cannot be (/ready then says why). */
  ready: Promise<void>;
  predictionLog: PredictionLog;
  /** The live and shadow models: hot reload (see ../runtime/modelLifecycle.ts). */
  models: ModelLifecycle;
  /**
   * Graceful shutdown: stops accepting connections, lets in-flight requests finish, then flushes the
   * prediction log (bounded by prediction_log.shutdown_timeout_ms). Resolves with the number of records that
   * could not be delivered.
   */
  close(): Promise<number>;
}

/**
 * On shutdown, how long a kept-alive connection may still bring a request (answered, then closed): long
 * enough for a request already on its way, short enough not to hold up the shutdown. A client that sends
 * later on a connection left idle meets the same race as at the keep-alive timeout, and must retry.
 */
const KEEP_ALIVE_GRACE_MS = 250;

export interface ServerOptions {
  /** Where predictions are logged (see predictionLogSettings in ../contract/environment.ts); omitted: nowhere. */
  predictionLog?: PredictionLogSettings;
  /** The keys for config.yaml server.auth; omitted: API_KEYS from the environment (see apiKeys in ../contract/environment.ts). */
  apiKeys?: readonly string[];
  /** features.yaml and config.yaml on disk, so that changes to server.model_version and shadow_model_version are followed; omitted: not followed. */
  specPaths?: { features: string; config: string };
  /** Told of each POST /admin/reload, to pass it on to the other worker processes (server.ts). */
  relayReload?: (request: ReloadRequest) => void;
  /** Where the model changes are told (one line each; refusals to `warn`); default: the console. */
  log?: (line: string) => void;
  warn?: (line: string) => void;
}

export async function startServer(
  spec: Spec,
  modelDir: string,
  address: { host: string; port: number },
  options: ServerOptions = {},
): Promise<RunningServer> {
  const model: ModelState = {};
  const { specPaths, relayReload, log, warn } = options;
  const models = new ModelLifecycle({ spec, modelDir, live: model, specPaths, relay: relayReload, log, warn });
  const predictionLog = options.predictionLog ? PredictionLog.create(options.predictionLog) : PredictionLog.disabled();
  // With the MongoDB sink on, POST /feedback finds predictions made before a restart or by another replica there,
  // through the sink's own client.
  const predictionLookup = predictionLog.mongodbConnection ? new MongoPredictionLookup(predictionLog.mongodbConnection) : undefined;
  const listener = createRequestListener({
    spec,
    model,
    predictionLog,
    predictionLookup,
    apiKeys: options.apiKeys ?? apiKeys(spec.config),
    models,
  });
  let closing = false;
  const server = createServer(serverOptions(spec.config), (req, res) => {
    if (closing) res.setHeader('connection', 'close'); // a request on a kept-alive connection during shutdown is its last
    listener(req, res);
  });
  // server.max_connections, tight timeouts, bounded keep-alive, JSON answers to malformed HTTP (see connections.ts).
  const connections = new ConnectionGuard(server, spec.config.server.max_connections);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address();
  const port = typeof bound === 'object' && bound ? bound.port : address.port;
  // In this thread or a worker-thread pool, micro-batched or not, as config.yaml server.inference says; then
  // LATEST and config.yaml are followed (hot reload).
  const ready = models.start().catch((error: unknown) => {
    // Any failure here (the project's Preprocessor.fromJSON on a damaged preprocessor.json included) means
    // no model to serve: a ModelLoadError, so the service says what failed instead of printing a stack trace.
    const failure =
      error instanceof ModelLoadError ? error : new ModelLoadError(`Loading the model from ${modelDir} failed: ${String(error)}`);
    model.loadError = failure.message;
    throw failure;
  });
  const shutDown = async () => {
    closing = true;
    await new Promise<void>((resolve) => {
      // Stop accepting connections now, but keep the open ones for a grace period: a client may be sending
      // its next request on a kept-alive connection that looks idle, and dropping that connection would lose
      // the request. http.Server's close() drops idle connections at once, so net.Server's is called first.
      // During the grace every answer says `connection: close` (see the request listener), ending its connection.
      let closeIdle: NodeJS.Timeout | undefined;
      const grace = setTimeout(() => {
        server.close(); // now drops the connections still idle, and ends http.Server's timeout checks
        closeIdle = setInterval(() => server.closeIdleConnections(), 50); // those idle after a request that began before
      }, KEEP_ALIVE_GRACE_MS);
      NetServer.prototype.close.call(server, () => {
        clearTimeout(grace);
        clearInterval(closeIdle);
        resolve();
      });
    });
    await predictionLookup?.close();
    await models.close(); // the sessions, and the worker-thread pool when there is one
    return predictionLog.close();
  };
  let closed: Promise<number> | undefined;
  const close = () => (closed ??= shutDown()); // once, however often it is called
  const url = `http://${address.host === '0.0.0.0' ? '127.0.0.1' : address.host}:${port}`;
  return { server, connections, url, ready, predictionLog, models, close };
}
