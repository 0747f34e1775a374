// `npm start`: validates features.yaml and config.yaml, serves the API, and shuts down cleanly on
// SIGTERM/SIGINT (stop accepting, finish in-flight requests, flush the prediction log, exit 0, all within a
// bounded wait). Exits 1 with a clear message when the spec, the environment or the model is wrong.
import { EnvironmentError, listenAddress, predictionLogSettings, projectPaths } from '../environment.js';
import { ModelLoadError } from '../model/artifacts.js';
import { loadSpec, SpecError } from '../spec/load.js';
import { startServer } from './startServer.js';

async function main(): Promise<void> {
  const paths = projectPaths();
  const spec = loadSpec(paths.features, paths.config);
  const predictionLog = predictionLogSettings(spec.config);
  const running = await startServer(spec, paths.modelDir, listenAddress(spec.config), { predictionLog });
  console.log(`${spec.config.name} ${spec.config.version} listening on ${running.url} (docs: ${running.url}/docs)`);
  console.log(`Prediction log: ${running.predictionLog.sinkNames.join(', ') || 'off'}`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: finishing in-flight requests and flushing the prediction log …`);
    void running.close().then(() => process.exit(0));
    // Bounded wait: requests that never finish must not keep the pod from terminating.
    setTimeout(() => process.exit(0), 10_000 + predictionLog.shutdownTimeoutMs).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  try {
    await running.ready;
    console.log('Model loaded and warmed up: ready');
  } catch (error) {
    await running.close();
    throw error;
  }
}

main().catch((error: unknown) => {
  const known = error instanceof SpecError || error instanceof ModelLoadError || error instanceof EnvironmentError;
  console.error(known ? `Cannot start: ${(error as Error).message}` : error);
  process.exit(1);
});
