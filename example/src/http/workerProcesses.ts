// config.yaml server.workers > 1: the primary process forks that many workers (node:cluster), each a whole
// service (server.ts) on the same port; the kernel's connections go round-robin between them. The primary
// serves nothing itself. It restarts a worker that dies unexpectedly (at most MAX_RESTARTS per
// RESTART_WINDOW_MS, then it gives up and exits 1), passes SIGTERM/SIGINT on so each worker shuts down
// gracefully (finishes in-flight requests, flushes its prediction log), and exits once all have exited.
//
// Each worker keeps its own /metrics and /monitoring figures: a scrape or a report describes the worker that
// answered it. In Kubernetes prefer workers: 1 and more replicas (each pod scraped on its own). Each worker follows
// model_bin/LATEST and config.yaml on its own (hot reload); a POST /admin/reload that reaches one worker is passed on
// by the primary to the others.
import cluster, { type Worker } from 'node:cluster';
import type { ReloadRequest } from '../runtime/modelLifecycle.js';

const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 60_000;

/** What a worker tells the primary. */
export interface WorkerMessage {
  /** The worker is serving: its model loaded (or, with on_model_error: not_ready, it serves without one). */
  serving?: true;
  /** POST /admin/reload reached this worker: the primary passes it on to the others, so that every worker serves alike. */
  reload?: ReloadRequest;
}

/** What the primary tells a worker. */
export interface PrimaryMessage {
  /** Shut down as for this signal (the primary got it). */
  shutdown?: 'SIGTERM' | 'SIGINT';
  /** Another worker was asked to reload: do the same. */
  reload?: ReloadRequest;
}

/** Runs in the primary: forks `count` workers and supervises them until they have all exited, then exits. */
export function superviseWorkers(count: number, shutdownLimitMs: number): void {
  let stopping = false;
  let failed = false;
  const restarts: number[] = [];
  const serving = new WeakSet<Worker>();

  const fork = () => {
    const worker = cluster.fork();
    worker.on('message', (message: WorkerMessage) => {
      if (message.serving) serving.add(worker);
      if (message.reload) {
        for (const other of Object.values(cluster.workers ?? {}))
          if (other && other !== worker && other.isConnected()) other.send({ reload: message.reload } satisfies PrimaryMessage, () => {});
      }
    });
  };
  const exitWhenAllGone = () => {
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(failed ? 1 : 0);
  };
  const stopAll = (signal: 'SIGTERM' | 'SIGINT') => {
    for (const worker of Object.values(cluster.workers ?? {})) {
      // A message, not a signal: after Ctrl-C the workers got SIGINT from the terminal already, and a second
      // signal would make them exit at once.
      // A worker may be exiting already (its channel closing): that send fails, and its exit is handled below.
      if (worker?.isConnected()) worker.send({ shutdown: signal } satisfies PrimaryMessage, () => {});
    }
    // Backstop: each worker bounds its own shutdown; one that hangs anyway is killed.
    setTimeout(() => {
      console.error(`${signal}: workers still running after ${shutdownLimitMs} ms; killing them`);
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGKILL');
      process.exit(1);
    }, shutdownLimitMs + 2000).unref();
    exitWhenAllGone();
  };

  cluster.on('exit', (worker, code, signal) => {
    const how = signal ? `signal ${signal}` : `code ${code}`;
    if (stopping) {
      if (code !== 0) failed = true;
      exitWhenAllGone();
      return;
    }
    if (!serving.has(worker)) {
      // It never came up (bad environment, model that cannot be loaded): its own message says why, and the
      // others would fail the same way.
      console.error(`Worker ${worker.id} exited (${how}) before serving; stopping the others`);
      failed = true;
      stopping = true;
      stopAll('SIGTERM');
      return;
    }
    const now = Date.now();
    while (restarts.length && restarts[0]! < now - RESTART_WINDOW_MS) restarts.shift();
    if (restarts.length >= MAX_RESTARTS) {
      console.error(
        `Worker ${worker.id} exited (${how}); ${MAX_RESTARTS} restarts within ${RESTART_WINDOW_MS / 1000} s already, giving up`,
      );
      failed = true;
      stopping = true;
      stopAll('SIGTERM');
      return;
    }
    restarts.push(now);
    console.error(`Worker ${worker.id} exited unexpectedly (${how}); starting a new one`);
    fork();
  });

  const onSignal = (signal: 'SIGTERM' | 'SIGINT') => {
    if (stopping) {
      console.error(`${signal} again: killing the workers without finishing the shutdown`);
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGKILL');
      process.exit(1);
    }
    stopping = true;
    console.log(`${signal}: stopping ${Object.keys(cluster.workers ?? {}).length} worker(s) …`);
    stopAll(signal);
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));

  console.log(`Starting ${count} worker processes (config.yaml server.workers)`);
  for (let i = 0; i < count; i++) fork();
}

/** Runs in a worker: reports to the primary (no-op outside cluster mode). */
export function tellPrimary(message: WorkerMessage): void {
  if (cluster.isWorker) process.send?.(message);
}

/** Runs in a worker: calls `stop` when the primary passes a shutdown on. */
export function onPrimaryShutdown(stop: (signal: string) => void): void {
  if (!cluster.isWorker) return;
  process.on('message', (message: PrimaryMessage) => {
    if (message?.shutdown) stop(message.shutdown);
  });
}

/** Runs in a worker: calls `reload` when another worker got POST /admin/reload (no-op outside cluster mode). */
export function onPrimaryReload(reload: (request: ReloadRequest) => void): void {
  if (!cluster.isWorker) return;
  process.on('message', (message: PrimaryMessage) => {
    if (message?.reload) reload(message.reload);
  });
}

/** The worker's number (1, 2, …) in cluster mode; undefined in a single process. */
export function workerId(): number | undefined {
  return cluster.isWorker ? cluster.worker?.id : undefined;
}
