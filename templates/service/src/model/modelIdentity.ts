// Which model answered: the one identity that answers, GET /ready, GET /monitoring and the prediction log carry.
import { basename } from 'node:path';

export interface ModelIdentity {
  /** The model's own version: its folder in model_bin/ (e.g. 20250101T120000Z-1a2b3c4d), not the API's version. */
  version: string;
  uuid: string;
  created_at: string;
}

/** A served model's identity, from its folder and model.json (a predictor is one). */
export function modelIdentity(model: {
  readonly modelDir: string;
  readonly metadata: { uuid: string; created_at: string };
}): ModelIdentity {
  const { uuid, created_at } = model.metadata;
  return { version: basename(model.modelDir), uuid, created_at };
}
