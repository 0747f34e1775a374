// `npm start`: validates features.yaml and config.yaml, serves the API, and shuts down cleanly on
// SIGTERM/SIGINT (stop accepting, finish in-flight requests, flush the prediction log, exit 0, all within a
// bounded wait; a second signal exits at once). Exits 1 with a clear message when the spec, the environment
// or the model is wrong; with server.on_model_error: not_ready a model that cannot be loaded leaves the
// service up with /ready at 503 instead. With server.workers other than 1 this process is the primary of a
// node:cluster (see workerProcesses.ts) and each worker runs the service.
import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { apiKeys, describeApiKeys, EnvironmentError, listenAddress, predictionLogSettings, projectPaths } from '../contract/environment.js';
import { ModelLoadError } from '../model/artifacts.js';
import { loadSpec, SpecError } from '../contract/index.js';
import { onPrimaryReload, onPrimaryShutdown, superviseWorkers, tellPrimary, workerId } from './workerProcesses.js';

async function main(): Promise<void> {
  const paths = projectPaths();
  const spec = loadSpec(paths.features, paths.config);
  const predictionLog = predictionLogSettings(spec.config);
  const keys = apiKeys(spec.config); // server.auth on without API_KEYS: refuse here, before any worker is forked
  const address = listenAddress(spec.config);
  // Bounded wait: requests that never finish must not keep the pod from terminating.
  const shutdownLimitMs = 10_000 + predictionLog.shutdownTimeoutMs;
  const workers = spec.config.server.workers || availableParallelism();
  if (cluster.isPrimary && workers > 1) {
    superviseWorkers(workers, shutdownLimitMs); // the spec and environment are valid: fork the workers that serve
    return;
  }
  // Imported here: a cluster primary needs none of the server's modules.
  const { startServer } = await import('./startServer.js');
  const running = await startServer(spec, paths.modelDir, address, {
    predictionLog,
    apiKeys: keys,
    specPaths: paths, // config.yaml's model_version and shadow_model_version are followed
    relayReload: (reload) => tellPrimary({ reload }), // with server.workers > 1, every worker does what POST /admin/reload asked
  });
  // Refusals are logged by the lifecycle; a reload cut short by the shutdown needs no word.
  onPrimaryReload((request) => void running.models.reload(request, { relayed: true }).catch(() => {}));
  const worker = workerId();
  if (worker !== undefined) {
    // Which worker answered: for checking that they share the load, and for reading their logs.
    running.server.prependListener('request', (_req, res) => res.setHeader('x-worker-id', String(worker)));
  }
  console.log(
    `${spec.config.name} ${spec.config.version} listening on ${running.url} (docs: ${running.url}/docs, dashboard: ${running.url}/dashboard)`,
  );
  console.log(`Prediction log: ${running.predictionLog.sinkNames.join(', ') || 'off'}`);
  console.log(describeApiKeys(spec.config, keys));
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      // A second signal (Ctrl-C twice): whoever sent it does not want to wait.
      console.error(`${signal} again: exiting without finishing the shutdown`);
      process.exit(1);
    }
    stopping = true;
    console.log(`${signal}: finishing in-flight requests and flushing the prediction log …`);
    void running.close().then(() => {
      const sinks = Object.entries(running.predictionLog.stats().sinks).map(
        ([sink, counts]) => `${sink} sent ${counts.sent}, dropped ${counts.dropped}`,
      );
      console.log(`Stopped.${sinks.length ? ` Prediction log: ${sinks.join('; ')}` : ''}`);
      process.exit(0);
    });
    setTimeout(() => {
      console.error(`${signal}: the shutdown did not finish within ${shutdownLimitMs} ms; exiting anyway`);
      process.exit(1);
    }, shutdownLimitMs).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  onPrimaryShutdown((signal) => {
    if (!stopping) stop(signal); // after Ctrl-C the terminal's SIGINT may have come first
  });
  try {
    await running.ready;
    console.log(`Model ${running.models.live?.version} loaded and warmed up: ready`);
    tellPrimary({ serving: true });
  } catch (error) {
    if (stopping) return; // stopped while loading: the shutdown in progress ends the process
    if (error instanceof ModelLoadError && spec.config.server.on_model_error === 'not_ready') {
      // Logged once; the pod stays up (not restarted in a loop) and /ready tells the probe and the operator why.
      console.error(`Model not loaded: ${error.message}`);
      console.error('Serving anyway (config.yaml server.on_model_error: not_ready): /health answers 200, /ready and /predict 503.');
      tellPrimary({ serving: true });
      return;
    }
    await running.close();
    throw error;
  }
}

main().catch((error: unknown) => {
  const known = error instanceof SpecError || error instanceof ModelLoadError || error instanceof EnvironmentError;
  console.error(known ? `Cannot start: ${(error as Error).message}` : error);
  process.exit(1);
});
