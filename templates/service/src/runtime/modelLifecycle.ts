// The models a running service holds, and how they change without a restart (hot reload):
// - live: the model every request predicts with. Which one: a version named by POST /admin/reload, else config.yaml's
//   server.model_version (a pin), else the one model_bin/LATEST names. Pinned, LATEST is not followed.
// - shadow: config.yaml's server.shadow_model_version (or one named by POST /admin/reload), run beside the live model
//   off the request path (src/monitoring/shadow.ts).
// While serving, LATEST and config.yaml are watched (fs.watch on their folders, a poll as the fallback, both
// debounced); when what they name changes, that version is loaded exactly as at start-up (loadPredictor: checked
// against features.yaml and config.yaml, warmed up) and swapped in at once. A request takes the live model once, at
// its start, and finishes on it; the model it replaced is released once its runs in flight are done. A version that
// cannot be loaded or checked is refused (one log line, an event for the metrics) and the current one keeps serving.
// Changes happen one at a time, in the order asked.
import { watch, type FSWatcher } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { formatProblem, loadSpec, SpecError, type FeatureTable, type FeatureValues, type Spec } from '../contract/index.js';
import { LATEST_FILE, listModelVersions, METADATA_FILE, ModelLoadError, readLatest, resolveModelDir } from '../model/artifacts.js';
import { modelIdentity, type ModelIdentity } from '../model/modelIdentity.js';
import { loadPredictor } from './loadPredictor.js';
import type { ModelOutputs, Prediction, Predictor } from './predictor.js';

export type ModelRole = 'live' | 'shadow';

/** Where requests read the live model (the HTTP layer's ModelState): the lifecycle writes it, a swap is one assignment. */
export interface LiveModelSlot {
  predictor?: Predictor;
  /** Why the live model could not be loaded at start-up (cleared once one is). */
  loadError?: string;
}

/** What happened to a role's model; the metrics count these (ml_model_reloads_total). */
export interface ModelEvent {
  role: ModelRole;
  /** loaded: now serving; refused: could not be loaded or checked, the current one stays; released: freed after its last run. */
  outcome: 'loaded' | 'refused' | 'released';
  /** The model's folder name in model_bin/. */
  version: string;
  /** refused: why. */
  message?: string;
}

/** What a reload did to one role. */
export type RoleResult =
  | { outcome: 'swapped'; model: ModelIdentity; previous: ModelIdentity | null }
  | { outcome: 'unchanged'; model: ModelIdentity | null }
  | { outcome: 'stopped'; model: null; previous: ModelIdentity }
  | {
      outcome: 'refused';
      /** unknown_version: no such folder in model_bin/; model_refused: it cannot be loaded, or does not fit the project. */
      error: 'unknown_version' | 'model_refused';
      version: string;
      message: string;
      /** The model that keeps its role. */
      model: ModelIdentity | null;
    };

/**
 * POST /admin/reload's request. version: the live model to serve (absent: what config.yaml and LATEST name now).
 * shadow_version: the shadow to run (absent: config.yaml's shadow_model_version; null: none).
 */
export interface ReloadRequest {
  version?: string;
  shadow_version?: string | null;
}

export interface ReloadResult {
  live: RoleResult;
  shadow: RoleResult;
}

/** A version name that is not a folder of the store. */
class UnknownVersionError extends ModelLoadError {
  override name = 'UnknownVersionError';
}

export interface ModelLifecycleOptions {
  spec: Spec;
  /** MODEL_DIR: the model store (version folders and LATEST), or one model's folder (served as it is, never reloaded). */
  modelDir: string;
  /** The live model's slot that the request handlers read. */
  live: LiveModelSlot;
  /** features.yaml and config.yaml on disk: config.yaml is re-read for model_version and shadow_model_version. Absent: spec's. */
  specPaths?: { features: string; config: string };
  /** Told of each reload() not itself relayed: server.ts passes it on to the other worker processes. */
  relay?: (request: ReloadRequest) => void;
  /** One line per change; refusals go to `warn`. */
  log?: (line: string) => void;
  warn?: (line: string) => void;
}

/** Changes to LATEST and config.yaml arrive as several events (a temporary file, then a rename): one check after they settle. */
const DEBOUNCE_MS = 100;

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );
const firstLine = (error: unknown) => (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
const oneLine = (error: unknown) =>
  (error instanceof Error ? error.message : String(error))
    .split('\n')
    .map((line) => line.trim())
    .join(' ');

/**
 * A loaded model as the lifecycle serves it: it counts its runs in flight, so that a replaced model is released
 * only after the requests that took it have their predictions.
 */
class ServedModel implements Predictor {
  private running = 0;
  private idle: (() => void) | undefined;
  private released = false;
  private closing: Promise<void> | undefined;

  /** The batch path (Predictor.predictOutputs), counted like predict(); absent when the inner model has none. */
  readonly predictOutputs?: (batch: FeatureTable) => Promise<ModelOutputs>;

  constructor(private readonly inner: Predictor) {
    if (inner.predictOutputs) this.predictOutputs = (batch) => this.counted(() => inner.predictOutputs!(batch));
  }

  get metadata(): Predictor['metadata'] {
    return this.inner.metadata;
  }

  get modelDir(): string {
    return this.inner.modelDir;
  }

  predict(rows: readonly FeatureValues[]): Promise<Prediction[]> {
    return this.counted(() => this.inner.predict(rows));
  }

  private counted<T>(start: () => Promise<T>): Promise<T> {
    // Cannot happen on the request path: a request calls predict in the same turn of the event loop as it takes
    // the model, and close() waits past that turn.
    if (this.released) return Promise.reject(new Error(`the model ${this.modelDir} was released after a reload`));
    this.running++;
    let run: Promise<T>;
    try {
      run = start();
    } catch (error) {
      run = Promise.reject(error);
    }
    return run.finally(() => {
      if (--this.running === 0) this.idle?.();
    });
  }

  /** Releases the model once its runs in flight are done: its session, threads and timers. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await new Promise((resolve) => setImmediate(resolve)); // a request that took the model this turn calls predict first
      if (this.running > 0) await new Promise<void>((resolve) => (this.idle = resolve));
      this.released = true;
      await this.inner.close?.();
    })();
    return this.closing;
  }
}

/** What config.yaml and LATEST name, as last read. */
interface Sources {
  /** config.yaml server.model_version. */
  pin: string | undefined;
  latest: string | undefined;
  shadow: string | undefined;
}

export class ModelLifecycle {
  private liveModel: ServedModel | undefined;
  private shadowModel: ServedModel | undefined;
  private readonly listeners: ((event: ModelEvent) => void)[] = [];
  /** The changes in order: each waits for the one before. */
  private chain: Promise<unknown> = Promise.resolve();
  /** Models being released (closed once their runs in flight are done); close() waits for them. */
  private readonly releasing = new Set<Promise<void>>();
  private watchers: FSWatcher[] = [];
  private poll: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  /** What the sources named at the last check: a change from this is what the watcher acts on. */
  private seen: Sources | undefined;
  /** config.yaml's text at the last read, and the settings taken from it. */
  private configRead: { text: string; sources: Pick<Sources, 'pin' | 'shadow'> } | undefined;
  private closed = false;
  private readonly log: (line: string) => void;
  private readonly warn: (line: string) => void;

  constructor(private readonly options: ModelLifecycleOptions) {
    this.log = options.log ?? ((line) => console.log(line));
    this.warn = options.warn ?? ((line) => console.error(line));
  }

  /** The live model's identity, once one is loaded. */
  get live(): ModelIdentity | undefined {
    return this.liveModel && modelIdentity(this.liveModel);
  }

  /** The shadow model, if one is loaded. */
  get shadow(): Predictor | undefined {
    return this.shadowModel;
  }

  /** Tells `listener` of every model loaded, refused or released. */
  subscribe(listener: (event: ModelEvent) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Loads the live model as config.yaml and LATEST name it (rejecting with a ModelLoadError when it cannot be), then
   * the shadow, if any, in the background; the watching starts either way, so a model fixed later is picked up.
   */
  start(): Promise<void> {
    const started = this.serially(async () => {
      const sources = await this.readSources();
      this.seen = sources;
      try {
        const dir = await resolveModelDir(this.options.modelDir, sources.pin);
        const model = this.serve(await loadPredictor(dir, this.options.spec), 'live');
        if (model) this.goLive(model);
      } finally {
        if (this.options.spec.config.server.hot_reload.watch) await this.watch();
      }
    });
    // The shadow loads after the live model, never delaying readiness; a refused one is logged and left out.
    void started.then(() => this.serially(() => this.setShadow(this.seen?.shadow))).catch(() => {});
    return started;
  }

  /**
   * POST /admin/reload: serves the versions asked for (or those the sources name now); see ReloadRequest. `relayed`:
   * passed on from another worker process (so not passed on again).
   */
  reload(request: ReloadRequest = {}, { relayed = false } = {}): Promise<ReloadResult> {
    if (!relayed) this.options.relay?.(request);
    return this.serially(async () => {
      const sources = await this.readSources();
      // One model's folder (not a store) is served as it is, whatever config.yaml pins, as at start-up.
      const named = (await this.singleModel()) ? undefined : (sources.pin ?? sources.latest);
      const live = await this.setLive(request.version ?? named);
      const shadow = await this.setShadow(request.shadow_version === undefined ? sources.shadow : (request.shadow_version ?? undefined));
      return { live, shadow };
    });
  }

  /**
   * Stops watching and releases the models (after their runs in flight). A model still loading is released once
   * loaded: the shutdown does not wait for it.
   */
  async close(): Promise<void> {
    this.closed = true;
    this.stopWatching();
    if (this.liveModel) this.release(this.liveModel, 'live');
    if (this.shadowModel) this.release(this.shadowModel, 'shadow');
    this.liveModel = this.shadowModel = undefined;
    await Promise.all(this.releasing);
  }

  private serially<T>(change: () => Promise<T>): Promise<T> {
    const run = this.chain.then(() => (this.closed ? Promise.reject(new Error('the service is shutting down')) : change()));
    this.chain = run.catch(() => {});
    return run;
  }

  /** A loaded model, ready to serve; released at once (undefined) when the lifecycle closed while it loaded. */
  private serve(loaded: Predictor, role: ModelRole): ServedModel | undefined {
    const model = new ServedModel(loaded);
    if (!this.closed) return model;
    this.release(model, role);
    return undefined;
  }

  /** The swap: requests from now on take `model`. */
  private goLive(model: ServedModel): void {
    this.liveModel = model;
    this.options.live.predictor = model;
    this.options.live.loadError = undefined;
    this.emit({ role: 'live', outcome: 'loaded', version: basename(model.modelDir) });
  }

  private emit(event: ModelEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  /** Whether MODEL_DIR is one model's folder rather than a store of versions. */
  private singleModel(): Promise<boolean> {
    return exists(join(this.options.modelDir, METADATA_FILE));
  }

  /** The folder of a version named in the store; an UnknownVersionError when there is none. */
  private async versionDir(version: string): Promise<string> {
    const { modelDir } = this.options;
    if (await this.singleModel())
      throw new UnknownVersionError(
        `MODEL_DIR (${modelDir}) is one model's folder, not a store of versions: "${version}" cannot be served`,
      );
    const available = await listModelVersions(modelDir);
    if (!available.includes(version))
      throw new UnknownVersionError(
        `${modelDir}/ has no model "${version}" (${available.length ? `available: ${available.join(', ')}` : 'it holds no model'})`,
      );
    return join(modelDir, version);
  }

  /** Loads `version` (undefined: MODEL_DIR itself, one model's folder) as the live model, unless it is the one serving. */
  private async setLive(version: string | undefined): Promise<RoleResult> {
    const current = this.liveModel;
    let dir: string;
    try {
      dir = version === undefined ? await resolveModelDir(this.options.modelDir) : await this.versionDir(version);
    } catch (error) {
      return this.refused('live', version ?? LATEST_FILE, error, current);
    }
    if (current?.modelDir === dir) return { outcome: 'unchanged', model: modelIdentity(current) };
    let next: ServedModel | undefined;
    try {
      next = this.serve(await loadPredictor(dir, this.options.spec), 'live');
    } catch (error) {
      return this.refused('live', basename(dir), error, current);
    }
    if (!next) return { outcome: 'unchanged', model: current ? modelIdentity(current) : null };
    const model = modelIdentity(next);
    this.log(`Model ${model.version} now serving${current ? ` (replacing ${basename(current.modelDir)})` : ''}`);
    this.goLive(next);
    if (current) this.release(current, 'live');
    return { outcome: 'swapped', model, previous: current ? modelIdentity(current) : null };
  }

  /** Loads `version` as the shadow model (undefined: none), unless it is the one shadowing. */
  private async setShadow(version: string | undefined): Promise<RoleResult> {
    const current = this.shadowModel;
    if (version === undefined) {
      if (!current) return { outcome: 'unchanged', model: null };
      this.shadowModel = undefined;
      this.log(`Shadow model ${basename(current.modelDir)} stopped`);
      this.release(current, 'shadow');
      return { outcome: 'stopped', model: null, previous: modelIdentity(current) };
    }
    let next: ServedModel | undefined;
    try {
      const dir = await this.versionDir(version);
      if (current?.modelDir === dir) return { outcome: 'unchanged', model: modelIdentity(current) };
      next = this.serve(await loadPredictor(dir, this.options.spec), 'shadow');
    } catch (error) {
      return this.refused('shadow', version, error, current);
    }
    if (!next) return { outcome: 'unchanged', model: current ? modelIdentity(current) : null };
    this.shadowModel = next;
    const model = modelIdentity(next);
    this.log(`Shadow model ${model.version} running beside the live one${current ? ` (replacing ${basename(current.modelDir)})` : ''}`);
    this.emit({ role: 'shadow', outcome: 'loaded', version: model.version });
    if (current) this.release(current, 'shadow');
    return { outcome: 'swapped', model, previous: current ? modelIdentity(current) : null };
  }

  private refused(role: ModelRole, version: string, error: unknown, current: ServedModel | undefined): RoleResult {
    const message = error instanceof ModelLoadError ? error.message : `Loading ${version} failed: ${String(error)}`;
    const keeping = current ? `${basename(current.modelDir)} keeps ${role === 'live' ? 'serving' : 'shadowing'}` : 'none loaded';
    this.warn(`Model reload refused (${role} ${version}): ${oneLine(message)}; ${keeping}`);
    this.emit({ role, outcome: 'refused', version, message });
    return {
      outcome: 'refused',
      error: error instanceof UnknownVersionError ? 'unknown_version' : 'model_refused',
      version,
      message,
      model: current ? modelIdentity(current) : null,
    };
  }

  private release(model: ServedModel, role: ModelRole): void {
    const version = basename(model.modelDir);
    const released = model.close().then(
      () => this.emit({ role, outcome: 'released', version }),
      (error: unknown) => this.warn(`Releasing the model ${version} failed: ${firstLine(error)}`),
    );
    this.releasing.add(released);
    void released.finally(() => this.releasing.delete(released));
  }

  /** config.yaml's pin and shadow (as at start-up when the file is not known, or as last read when it became invalid) and LATEST. */
  private async readSources(): Promise<Sources> {
    const { spec, specPaths, modelDir } = this.options;
    let fromConfig: Pick<Sources, 'pin' | 'shadow'> = this.configRead?.sources ?? {
      pin: spec.config.server.model_version,
      shadow: spec.config.server.shadow_model_version,
    };
    if (specPaths) {
      const text = await readFile(specPaths.config, 'utf8').catch(() => undefined);
      if (text !== undefined && text !== this.configRead?.text) {
        try {
          const { server } = loadSpec(specPaths.features, specPaths.config).config;
          fromConfig = { pin: server.model_version, shadow: server.shadow_model_version };
        } catch (error) {
          // Said once per version of the file; the models stay as they are until it is valid again.
          const problem = error instanceof SpecError && error.problems[0] ? formatProblem(error.problems[0]).trim() : firstLine(error);
          this.warn(`${specPaths.config} changed but is not valid (${problem}); the models stay as they are`);
        }
        this.configRead = { text, sources: fromConfig };
      }
    }
    const latest = (await this.singleModel()) ? undefined : await readLatest(modelDir);
    return { ...fromConfig, latest };
  }

  /** Watches the store's folder (LATEST) and config.yaml's folder (a Kubernetes ConfigMap swaps a link there), and polls. */
  private async watch(): Promise<void> {
    if (this.closed || this.watchers.length || this.poll) return;
    const folders = new Set<string>();
    if (!(await this.singleModel())) folders.add(this.options.modelDir);
    if (this.options.specPaths) folders.add(dirname(this.options.specPaths.config));
    if (!folders.size) return; // one model's folder and no config.yaml to follow: nothing can change
    for (const folder of folders) {
      try {
        const watcher = watch(folder, { persistent: false }, () => this.scheduleCheck());
        watcher.on('error', () => watcher.close()); // e.g. the folder was removed: the poll still looks
        this.watchers.push(watcher);
      } catch (error) {
        this.warn(`Cannot watch ${folder} (${firstLine(error)}); polling it instead`);
      }
    }
    const interval = this.options.spec.config.server.hot_reload.poll_interval_ms;
    if (interval > 0) this.poll = setInterval(() => this.scheduleCheck(), interval).unref();
  }

  private stopWatching(): void {
    for (const watcher of this.watchers) watcher.close();
    this.watchers = [];
    clearInterval(this.poll);
    clearTimeout(this.debounce);
    this.poll = this.debounce = undefined;
  }

  private scheduleCheck(): void {
    if (this.closed) return;
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.serially(() => this.check()).catch(() => {}), DEBOUNCE_MS).unref();
  }

  /** Acts on what changed in the sources since the last check (an admin reload's choice stands until then). */
  private async check(): Promise<void> {
    if (this.closed) return;
    const sources = await this.readSources();
    const seen = this.seen;
    this.seen = sources;
    if (!seen) return;
    const wanted = sources.pin ?? sources.latest;
    if (wanted !== (seen.pin ?? seen.latest) && wanted !== undefined) await this.setLive(wanted);
    else if (sources.pin !== undefined && sources.latest !== seen.latest && sources.latest !== undefined)
      this.log(
        `${LATEST_FILE} now names ${sources.latest}, but config.yaml pins server.model_version: ${sources.pin}, which keeps serving`,
      );
    if (sources.shadow !== seen.shadow) await this.setShadow(sources.shadow);
  }
}
