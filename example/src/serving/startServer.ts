// Starts the HTTP server for a spec and a model directory: listens first (so /health answers at once),
// then loads and warms up the model (then /ready turns 200). Used by server.ts and by tests.
import { createServer, type Server } from 'node:http';
import { MongoPredictionLookup } from '../monitoring/index.js';
import { PredictionLog, type PredictionLogSettings } from '../predictionLog/index.js';
import type { Spec } from '../spec/load.js';
import { exampleRow } from '../spec/requestSchema.js';
import { createApp, type ModelState } from './app.js';
import { Predictor } from './predictor.js';

export interface RunningServer {
  server: Server;
  url: string;
  /** Resolves when the model is loaded and warmed up (rejects when it cannot be). */
  ready: Promise<void>;
  predictionLog: PredictionLog;
  /**
   * Graceful shutdown: stops accepting connections, lets in-flight requests finish, then flushes the
   * prediction log (bounded by prediction_log.shutdown_timeout_ms). Resolves with the number of records that
   * could not be delivered.
   */
  close(): Promise<number>;
}

export interface ServerOptions {
  /** Where predictions are logged (see predictionLogSettings in ../environment.ts); omitted: nowhere. */
  predictionLog?: PredictionLogSettings;
}

export async function startServer(
  spec: Spec,
  modelDir: string,
  address: { host: string; port: number },
  options: ServerOptions = {},
): Promise<RunningServer> {
  const model: ModelState = {};
  const predictionLog = options.predictionLog ? PredictionLog.create(options.predictionLog) : PredictionLog.disabled();
  // With the MongoDB sink on, POST /feedback finds predictions made before a restart or by another replica there.
  const predictionLookup = options.predictionLog?.sinks.includes('mongodb')
    ? new MongoPredictionLookup(options.predictionLog.mongodb)
    : undefined;
  const app = createApp({ spec, model, predictionLog, predictionLookup });
  let closing = false;
  const server = createServer((req, res) => {
    if (closing) res.setHeader('connection', 'close'); // a request on a kept-alive connection during shutdown is its last
    app(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address();
  const port = typeof bound === 'object' && bound ? bound.port : address.port;
  const ready = Predictor.load(modelDir, spec).then(async (predictor) => {
    await predictor.predict([exampleRow(spec.features.features)]); // warm-up: first run allocates
    model.predictor = predictor;
  });
  const close = async () => {
    closing = true;
    await new Promise<void>((resolve) => {
      // server.close() waits for open connections; a kept-alive one that finishes its request is closed
      // here rather than after its keep-alive timeout.
      const closeIdle = setInterval(() => server.closeIdleConnections(), 50);
      server.close(() => {
        clearInterval(closeIdle);
        resolve();
      });
      server.closeIdleConnections();
    });
    await predictionLookup?.close();
    return predictionLog.close();
  };
  const url = `http://${address.host === '0.0.0.0' ? '127.0.0.1' : address.host}:${port}`;
  return { server, url, ready, predictionLog, close };
}
