// POST /admin/reload's body and answers: the hot reload on demand (src/runtime/modelLifecycle.ts does the work). It
// may name the live version and the shadow; without a name it serves what config.yaml and model_bin/LATEST name now.
// Who may call it: with API keys, callers with a key (the route is alwaysKeyed); without, loopback callers only, as
// server.hot_reload.admin_without_keys says (RequestGuards). It answers while no model is loaded too, so a service
// whose model failed at start-up (on_model_error: not_ready) can be given a good one.
import { z } from 'zod';
import { modelFolderName } from '../contract/index.js';
import type { ModelLifecycle, ReloadRequest, ReloadResult, RoleResult } from '../runtime/modelLifecycle.js';
import type { JsonAnswer, JsonRoute } from './predictionHandler.js';

export const modelReloadRequest: z.ZodType<ReloadRequest> = z.strictObject({
  version: modelFolderName.optional().meta({ description: 'The version to serve; absent: what config.yaml and model_bin/LATEST name now' }),
  shadow_version: modelFolderName
    .nullable()
    .optional()
    .meta({ description: "The version to run as the shadow; null: none; absent: config.yaml's server.shadow_model_version" }),
});

/** The route's body: `models` absent (an app built without a lifecycle, as in some tests) answers 409. */
export function modelReloadBody(models: ModelLifecycle | undefined): JsonRoute<ReloadRequest> {
  const answer = async (request: ReloadRequest): Promise<JsonAnswer> => {
    if (!models) {
      return json(409, {
        error: 'reload_unavailable',
        message: 'This app was built without a model lifecycle: restart it to change the model',
      });
    }
    return answerOf(await models.reload(request));
  };
  return { schema: modelReloadRequest, answer: (request) => answer(request), answerWithoutModel: answer };
}

/** 200 when nothing was refused; else 404 (a version that does not exist) or 422 (one that cannot serve), saying why. */
function answerOf(result: ReloadResult): JsonAnswer {
  const refused = [result.live, result.shadow].filter(
    (role): role is Extract<RoleResult, { outcome: 'refused' }> => role.outcome === 'refused',
  );
  if (!refused.length) return json(200, result);
  const unknown = refused.find((role) => role.error === 'unknown_version');
  return json(unknown ? 404 : 422, {
    error: (unknown ?? refused[0]!).error,
    message: refused.map((role) => role.message).join('\n'),
    ...result,
  });
}

function json(status: number, body: unknown): JsonAnswer {
  return { status, json: JSON.stringify(body) };
}
