// The Open Inference Protocol's REST routes, as entries of the route table (../routes.ts): server metadata and
// health, and per model (config.yaml `name`, optionally with the served version: its model_bin/ folder) metadata,
// readiness and inference. Inference goes through the same runtime as /predict (Predictions), so monitoring, drift,
// metrics and the prediction log see a V2 request exactly as a /predict/batch one; only the answer is written as
// tensors. The unversioned infer URL is on the fast path.
import { exampleRow, type RequestSchemas, type Spec } from '../../contract/index.js';
import type { Explanations, RowExplainer } from '../../runtime/explanations.js';
import type { Predictions } from '../../runtime/predictions.js';
import { idList } from '../../runtime/uniqueIds.js';
import type { JsonRoute, ModelState } from '../predictionHandler.js';
import type { JsonError } from '../requestGuards.js';
import { expressPath, type GetAnswer, type Route } from '../routes.js';
import {
  acceptInferenceRequest,
  inferenceRequestSchema,
  OPEN_INFERENCE_PREFIX,
  openInferenceAnswers,
  openInferenceError,
  type InferenceRequest,
} from './protocol.js';
import { TensorCodec, tabularRequest } from './tensors.js';

export interface OpenInferenceOptions {
  spec: Spec;
  model: ModelState;
  schemas: RequestSchemas;
  /** The runtime /predict answers through. */
  predictions: Predictions;
  /** The served models' explainers (parameters.explain), shared with /predict?explain=true. */
  explanations: Explanations;
}

type Params = Readonly<Record<string, string | undefined>>;

const TAG = 'Open Inference Protocol V2';

export function openInferenceRoutes({ spec, model, schemas, predictions, explanations }: OpenInferenceOptions): Route[] {
  const { name, version } = spec.config;
  const codec = new TensorCodec(spec, schemas);
  const answers = openInferenceAnswers;
  const errorSchema = answers.InferenceErrorResponse;
  const failed = (status: number, error: JsonError): GetAnswer => ({ status, json: openInferenceError(error) });
  const notReady: JsonError = {
    error: 'not_ready',
    message: 'The model is still loading (or failed to load: GET /ready says why); retry shortly',
  };

  /** Why the URL names nothing served here (404), or undefined: the model's name, and its version when the URL has one. */
  const notServed = ({ model_name, model_version }: Params): JsonError | undefined => {
    if (model_name !== name) {
      return { error: 'model_not_found', message: `There is no model ${JSON.stringify(model_name)} here: this service serves ${name}` };
    }
    const served = model.predictor && predictions.identity(model.predictor).version;
    // While the model loads its version is unknown: the route then answers 503.
    if (model_version !== undefined && served !== undefined && model_version !== served) {
      return {
        error: 'version_not_found',
        message: `${name} has no version ${JSON.stringify(model_version)} here: the version served is ${served}`,
      };
    }
    return undefined;
  };

  const parameters = (versioned: boolean) => ({
    model_name: { description: 'The model: config.yaml name', example: name },
    ...(versioned
      ? { model_version: { description: "The served model's version: its model_bin/ folder (GET /v2/models/{model_name} lists it)" } }
      : {}),
  });
  const notFound = { description: 'No such model (or version) here', schema: errorSchema };
  const loading = { description: 'The model is not loaded yet', schema: errorSchema };

  const modelRoutes = ([false, true] as const).flatMap((versioned): Route[] => {
    const path = `${OPEN_INFERENCE_PREFIX}/models/{model_name}${versioned ? '/versions/{model_version}' : ''}`;
    const which = versioned ? ' (a version)' : '';
    const operation = (id: string) => `${id}${versioned ? 'Version' : ''}`;
    const infer: JsonRoute<InferenceRequest> = {
      schema: inferenceRequestSchema,
      accept: acceptInferenceRequest,
      invalidStatus: 400,
      refuse: ({ params }) => {
        const error = notServed(params);
        return error && { status: 404, error };
      },
      async answer(request, predictor, { requestId, startedAt }) {
        const decoded = codec.decode(request);
        if ('invalid' in decoded) {
          const { message, issues, count } = decoded.invalid;
          return {
            status: 400,
            json: JSON.stringify(openInferenceError({ error: 'validation_failed', message, issues, issue_count: count })),
          };
        }
        const { table, ids, outputs } = decoded.request;
        const id = request.id ?? requestId;
        const explain = request.parameters?.explain;
        if (explain !== undefined && typeof explain !== 'boolean') {
          const message = 'parameters.explain must be true or false';
          const issues = [{ field: 'parameters.explain', message }];
          return { status: 400, json: JSON.stringify(openInferenceError({ error: 'validation_failed', message, issues, issue_count: 1 })) };
        }
        let explainer: RowExplainer | undefined;
        if (explain) {
          const found = await explanations.explainerFor(predictor);
          if ('unavailable' in found)
            return {
              status: 400,
              json: JSON.stringify(openInferenceError({ error: 'explanation_unavailable', message: found.unavailable })),
            };
          explainer = found;
        }
        const { classes } = predictor.metadata;
        const asked = { predictor, route: expressPath(`${path}/infer`), requestId, startedAt };
        // Explained: row by row, as /predict?explain=true; else the batch path, the answer written from the outputs.
        const { json, publish } = explainer
          ? await predictions.predict({
              ...asked,
              rows: table.rows,
              ids: idList(ids),
              batch: true,
              explainer,
              writeAnswer: (answered) => codec.answerJson(answered, { id, outputs, classes }),
            })
          : await predictions.predictBatch({
              ...asked,
              table,
              ids,
              writeOutputs: (answered) => codec.outputsJson(answered, { id, outputs, classes }),
            });
        return { status: 200, json, afterSend: publish };
      },
    };
    return [
      {
        method: 'GET',
        path,
        parameters: parameters(versioned),
        errorSchema,
        docs: { operationId: operation('v2ModelMetadata'), summary: `Model metadata${which}: inputs and outputs`, tag: TAG },
        responses: { 200: { description: 'The model', schema: answers.ModelMetadataResponse }, 404: notFound, 503: loading },
        answer({ params }) {
          const error = notServed(params);
          if (error) return failed(404, error);
          const { predictor } = model;
          if (!predictor) return failed(503, notReady);
          return { json: codec.modelMetadata(predictions.identity(predictor), predictor.metadata.classes) };
        },
      },
      {
        method: 'GET',
        path: `${path}/ready`,
        parameters: parameters(versioned),
        errorSchema,
        docs: { operationId: operation('v2ModelReady'), summary: `Model readiness${which}`, tag: TAG },
        responses: {
          200: { description: 'Ready', schema: answers.ModelReadyResponse },
          404: notFound,
          503: { description: 'Not loaded yet (ready: false)', schema: answers.ModelReadyResponse },
        },
        answer({ params }) {
          const error = notServed(params);
          if (error) return failed(404, error);
          const ready = model.predictor !== undefined;
          return { status: ready ? 200 : 503, json: { name, ready } };
        },
      },
      {
        method: 'POST',
        path: `${path}/infer`,
        parameters: parameters(versioned),
        errorSchema,
        docs: {
          operationId: operation('v2Infer'),
          summary: `Inference${which}: tensors in, tensors out`,
          description:
            'One input per feature of features.yaml (shape [N] or [N, 1]), or, when every feature is numeric, a single [N, F] ' +
            'tensor in features.yaml order. Outputs: prediction and, for classification, probabilities ([N, C], the class order ' +
            'is in the model metadata). Validated like POST /predict; a bad request gets 400 with the failing elements.',
          tag: TAG,
        },
        body: infer,
        example: tabularRequest(spec.features.features, [exampleRow(spec.features.features)], 'req-0001'),
        // The URL without a version has one value: it is found by exact URL before Express's router.
        fastPath: versioned ? false : { params: { model_name: name } },
        responses: { 200: { description: 'The outputs, a tensor each', schema: answers.InferenceResponse }, 404: notFound },
      },
    ];
  });

  return [
    {
      method: 'GET',
      path: OPEN_INFERENCE_PREFIX,
      errorSchema,
      docs: { operationId: 'v2ServerMetadata', summary: 'Server metadata', tag: TAG },
      responses: { 200: { description: 'The server', schema: answers.ServerMetadataResponse } },
      answer: () => ({ json: { name, version, extensions: [] } }),
    },
    {
      method: 'GET',
      path: `${OPEN_INFERENCE_PREFIX}/health/live`,
      errorSchema,
      docs: { operationId: 'v2ServerLive', summary: 'Liveness: the process is up', tag: TAG },
      responses: { 200: { description: 'Alive', schema: answers.ServerLiveResponse } },
      answer: () => ({ json: { live: true } }),
    },
    {
      method: 'GET',
      path: `${OPEN_INFERENCE_PREFIX}/health/ready`,
      errorSchema,
      docs: { operationId: 'v2ServerReady', summary: 'Readiness: the model is loaded and warmed up', tag: TAG },
      responses: {
        200: { description: 'Ready', schema: answers.ServerReadyResponse },
        503: { description: 'Not ready (ready: false)', schema: answers.ServerReadyResponse },
      },
      answer: () => {
        const ready = model.predictor !== undefined;
        return { status: ready ? 200 : 503, json: { ready } };
      },
    },
    ...modelRoutes,
  ];
}
