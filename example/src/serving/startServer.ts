// Starts the HTTP server for a spec and a model directory: listens first (so /health answers at once),
// then loads and warms up the model (then /ready turns 200). Used by server.ts and by tests.
import type { Server } from 'node:http';
import type { Spec } from '../spec/load.js';
import { exampleRow } from '../spec/requestSchema.js';
import { createApp, type ModelState } from './app.js';
import { Predictor } from './predictor.js';

export interface RunningServer {
  server: Server;
  url: string;
  /** Resolves when the model is loaded and warmed up (rejects when it cannot be). */
  ready: Promise<void>;
  close(): Promise<void>;
}

export async function startServer(spec: Spec, modelDir: string, address: { host: string; port: number }): Promise<RunningServer> {
  const model: ModelState = {};
  const app = createApp({ spec, model });
  const server = await new Promise<Server>((resolve, reject) => {
    const listening = app.listen(address.port, address.host, () => resolve(listening));
    listening.once('error', reject);
  });
  const bound = server.address();
  const port = typeof bound === 'object' && bound ? bound.port : address.port;
  const ready = Predictor.load(modelDir, spec).then(async (predictor) => {
    await predictor.predict([exampleRow(spec.features.features)]); // warm-up: first run allocates
    model.predictor = predictor;
  });
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
  return { server, url: `http://${address.host === '0.0.0.0' ? '127.0.0.1' : address.host}:${port}`, ready, close };
}
