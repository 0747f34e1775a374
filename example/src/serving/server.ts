// `npm start`: validates features.yaml and config.yaml, serves the API, and shuts down cleanly on
// SIGTERM/SIGINT (stop accepting, finish in-flight requests, bounded wait). Exits 1 with a clear message
// when the spec or the model is wrong.
import { listenAddress, projectPaths } from '../environment.js';
import { ModelLoadError } from '../model/artifacts.js';
import { loadSpec, SpecError } from '../spec/load.js';
import { startServer } from './startServer.js';

async function main(): Promise<void> {
  const paths = projectPaths();
  const spec = loadSpec(paths.features, paths.config);
  const running = await startServer(spec, paths.modelDir, listenAddress(spec.config));
  console.log(`${spec.config.name} ${spec.config.version} listening on ${running.url} (docs: ${running.url}/docs)`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: finishing in-flight requests …`);
    void running.close().then(() => process.exit(0));
    setTimeout(() => process.exit(0), 10_000).unref(); // bounded wait
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
  const known = error instanceof SpecError || error instanceof ModelLoadError;
  console.error(known ? `Cannot start: ${(error as Error).message}` : error);
  process.exit(1);
});
