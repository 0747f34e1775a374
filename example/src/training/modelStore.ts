// The model store's versions and which one is live, and the two ways to change it by hand: promote a version to
// LATEST, or roll LATEST back to the one before (npm run models). A version is checked the way the service checks
// it at start-up (loaded by onnxruntime against features.yaml and config.yaml, the example row run through it)
// before LATEST names it, so a promotion never points a running service at a model it would refuse; with hot
// reload the service then swaps to it by itself.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { listModelVersions, METADATA_FILE, readLatest, type DataProvenance } from '../model/artifacts.js';
import type { Spec } from '../contract/index.js';
import { latestStack, readHistory, recordPromotion, type PromotionEvent } from './promotionHistory.js';

/** A request the store cannot satisfy (no such version, nothing to roll back to, a model that does not load). */
export class ModelStoreError extends Error {
  override name = 'ModelStoreError';
}

export interface VersionSummary {
  version: string;
  /** The version the service serves: the config.yaml pin, else LATEST. */
  live: boolean;
  latest: boolean;
  /** Named by config.yaml server.model_version. */
  pinned: boolean;
  created_at: string | null;
  algorithm: string | null;
  /** The holdout metrics recorded at training (numbers only; the confusion matrix is left out). */
  metrics: Record<string, number> | null;
  /** The quality gate's verdict at training; null when model.json records none (a model trained elsewhere). */
  gate: 'passed' | 'failed' | null;
  rows: { train: number; holdout: number } | null;
  data: DataProvenance | null;
  git: { commit: string; dirty: boolean | null } | null;
  /** Why model.json could not be read, when it could not. */
  problem?: string;
}

export interface StoreDescription {
  store: string;
  latest: string | null;
  /** config.yaml server.model_version. */
  pinned: string | null;
  /** The version the service serves (the pin, else LATEST); null when there is none. */
  live: string | null;
  versions: VersionSummary[];
}

const isDirectory = (path: string) =>
  stat(path).then(
    (info) => info.isDirectory(),
    () => false,
  );

/** The store folder, checked: it exists and is a store of versions, not one model's folder. */
async function checkedStore(storeDir: string): Promise<string> {
  if (!(await isDirectory(storeDir)))
    throw new ModelStoreError(`${storeDir}/ does not exist: train a model with \`npm run train\` (or set MODEL_DIR to the model store)`);
  const single = await stat(join(storeDir, METADATA_FILE)).then(
    () => true,
    () => false,
  );
  if (single)
    throw new ModelStoreError(
      `${storeDir}/ holds one model (its model.json), not a store of versions: set MODEL_DIR to the folder that holds the version folders and LATEST`,
    );
  return storeDir;
}

const asRecord = (value: unknown): Record<string, unknown> | undefined =>
  value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;

/** What model.json says about a version, read loosely: a model trained elsewhere records less. */
async function summarize(storeDir: string, version: string): Promise<Omit<VersionSummary, 'live' | 'latest' | 'pinned'>> {
  const empty = { version, created_at: null, algorithm: null, metrics: null, gate: null, rows: null, data: null, git: null };
  let json: Record<string, unknown> | undefined;
  try {
    json = asRecord(JSON.parse(await readFile(join(storeDir, version, METADATA_FILE), 'utf8')));
  } catch (error) {
    return { ...empty, problem: `model.json cannot be read: ${(error as Error).message}` };
  }
  if (!json) return { ...empty, problem: 'model.json is not an object' };
  const metrics = asRecord(json.metrics);
  const numbers =
    metrics && Object.fromEntries(Object.entries(metrics).filter(([, value]) => typeof value === 'number') as [string, number][]);
  const gate = asRecord(json.quality_gate);
  return {
    version,
    created_at: typeof json.created_at === 'string' ? json.created_at : null,
    algorithm: typeof json.algorithm === 'string' ? json.algorithm : null,
    metrics: numbers && Object.keys(numbers).length ? numbers : null,
    gate: typeof gate?.passed === 'boolean' ? (gate.passed ? 'passed' : 'failed') : null,
    rows: (asRecord(json.rows) as VersionSummary['rows'] | undefined) ?? null,
    data: (asRecord(json.data) as DataProvenance | undefined) ?? null,
    git: (asRecord(json.git) as VersionSummary['git'] | undefined) ?? null,
  };
}

/** Every version in the store, oldest first, with what model.json records and which one is live. */
export async function describeStore(storeDir: string, spec: Spec): Promise<StoreDescription> {
  await checkedStore(storeDir);
  const latest = (await readLatest(storeDir)) ?? null;
  const pinned = spec.config.server.model_version ?? null;
  const live = pinned ?? latest;
  const versions = await Promise.all(
    (await listModelVersions(storeDir)).map(async (version) => ({
      ...(await summarize(storeDir, version)),
      live: version === live,
      latest: version === latest,
      pinned: version === pinned,
    })),
  );
  return { store: storeDir, latest, pinned, live, versions };
}

/** The version, which must be in the store; the error lists those that are. */
async function existingVersion(storeDir: string, version: string): Promise<string> {
  const available = await listModelVersions(storeDir);
  if (available.includes(version)) return version;
  const listing = available.length ? `available: ${available.join(', ')}` : 'it holds no model; train one with `npm run train`';
  throw new ModelStoreError(`${storeDir}/ has no model "${version}" (${listing})`);
}

/** Loads the version as the service would (onnxruntime, checked against features.yaml and config.yaml); throws why not. */
async function checkServable(storeDir: string, version: string, spec: Spec): Promise<void> {
  // Imported here: listing the store needs no onnxruntime.
  const { OnnxPredictor } = await import('../runtime/predictor.js');
  try {
    // Loaded only to see that it loads: released at once (its native session is outside V8's heap).
    await (await OnnxPredictor.load(join(storeDir, version), spec)).close();
  } catch (error) {
    throw new ModelStoreError(
      `${version} cannot be served, so LATEST is unchanged:\n  ${(error as Error).message.split('\n').join('\n  ')}`,
    );
  }
}

export interface LatestChange {
  /** The event written to HISTORY; undefined when LATEST already named the version. */
  event?: PromotionEvent;
  version: string;
  /** Notes for the user, e.g. that config.yaml pins another version. */
  notes: string[];
}

function pinNote(spec: Spec, version: string): string[] {
  const pinned = spec.config.server.model_version;
  return pinned !== undefined && pinned !== version
    ? [`config.yaml server.model_version pins ${pinned}: the service serves that one whatever LATEST names; remove the pin to serve LATEST`]
    : [];
}

/**
 * Points LATEST at `version` once it loads as the service would load it. A version that missed the quality gate
 * is refused unless `force`.
 */
export async function promoteVersion(
  storeDir: string,
  spec: Spec,
  version: string,
  options: { force?: boolean } = {},
): Promise<LatestChange> {
  await checkedStore(storeDir);
  await existingVersion(storeDir, version);
  const summary = await summarize(storeDir, version);
  if (summary.gate === 'failed' && !options.force)
    throw new ModelStoreError(
      `${version} missed the quality gate when it was trained (model.json quality_gate.passed is false), so LATEST is unchanged; add --force to promote it anyway`,
    );
  await checkServable(storeDir, version, spec);
  if ((await readLatest(storeDir)) === version)
    return { version, notes: [`${version} is LATEST already; nothing changed`, ...pinNote(spec, version)] };
  const event = await recordPromotion(storeDir, { action: 'promote', version });
  return { event, version, notes: pinNote(spec, version) };
}

/** Points LATEST back at the version it named before the current one (HISTORY), once that loads. */
export async function rollbackLatest(storeDir: string, spec: Spec): Promise<LatestChange> {
  await checkedStore(storeDir);
  const current = await readLatest(storeDir);
  if (current === undefined) throw new ModelStoreError(`${storeDir}/LATEST does not exist: there is nothing to roll back`);
  const stack = latestStack(await readHistory(storeDir), current);
  const target = stack.at(-2);
  if (target === undefined)
    throw new ModelStoreError(
      `LATEST (${current}) is the first model the history records: there is no earlier one to roll back to; promote a version by name with \`npm run models -- promote <version>\``,
    );
  try {
    await existingVersion(storeDir, target);
  } catch (error) {
    throw new ModelStoreError(`the previous LATEST, ${target}, is gone from the store: ${(error as Error).message}`);
  }
  await checkServable(storeDir, target, spec);
  const event = await recordPromotion(storeDir, { action: 'rollback', version: target });
  return { event, version: target, notes: pinNote(spec, target) };
}
