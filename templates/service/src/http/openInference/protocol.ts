// The Open Inference Protocol (KServe's "V2" REST data plane, also spoken by Seldon MLServer and NVIDIA Triton):
// its JSON bodies as zod schemas, once. The request schema checks the envelope (inputs with name, shape, datatype
// and data); tensors.ts checks what the tensors hold against features.yaml. The answer schemas drive the OpenAPI
// document; the tests hold real answers to them and to the protocol's published schema.
// https://github.com/kserve/open-inference-protocol/blob/main/specification/protocol/inference_rest.md
import { z } from 'zod';

/** Every route of the protocol is below this path; so is every answer in its error format (see openInferenceError). */
export const OPEN_INFERENCE_PREFIX = '/v2';

/** The protocol's tensor element types. */
export const DATATYPES = [
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BYTES',
] as const;
export type Datatype = (typeof DATATYPES)[number];

/** Key/value pairs the protocol lets every object carry; it defines none, so any are accepted and ignored. */
const parameters = z.record(z.string(), z.unknown()).meta({ description: 'Accepted and ignored (the protocol defines none)' });

const shape = z.array(z.number().int().min(0)).max(8);

export const requestInputSchema = z.object({
  name: z.string().meta({ description: 'A feature of features.yaml, or (all-numeric specs) any name for a single [N, F] tensor' }),
  shape: shape.meta({ description: '[N] or [N, 1] per feature; [N, F] for the single tensor', examples: [[1]] }),
  datatype: z.enum(DATATYPES),
  parameters: parameters.optional(),
  data: z.array(z.unknown()).meta({ description: 'The values in row-major order, flat or nested by row' }),
});
export type RequestInput = z.output<typeof requestInputSchema>;

/** POST …/infer: the envelope. Unknown keys are ignored, as other servers' clients may add their own. */
export const inferenceRequestSchema = z
  .object({
    id: z.string().max(200).optional().meta({ description: 'Echoed in the answer (the X-Request-Id when absent)' }),
    parameters: z
      .record(z.string(), z.unknown())
      .optional()
      .meta({
        description:
          "explain: true adds the explanation outputs (explanation_contributions [N, F], every feature's contribution, " +
          'explanation_base and explanation_output [N], base + Σ contributions = output); others are ignored',
        examples: [{ explain: true }],
      }),
    inputs: z.array(requestInputSchema).min(1),
    outputs: z
      .array(z.object({ name: z.string(), parameters: parameters.optional() }))
      .optional()
      .meta({ description: 'The outputs to answer with, in this order; default: all' }),
  })
  .meta({ description: 'An Open Inference Protocol (V2) inference request' });
export type InferenceRequest = z.output<typeof inferenceRequestSchema>;

const DATATYPE_SET: ReadonlySet<string> = new Set(DATATYPES);

/** A JSON object (not an array, not null): what the schema's objects and records take. */
const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/** An optional parameters record, as the schema takes it. */
const isParameters = (value: unknown) => value === undefined || isObject(value);

function isRequestInput(input: unknown): boolean {
  if (!isObject(input)) return false;
  const { name, shape, datatype, parameters, data } = input;
  if (typeof name !== 'string' || typeof datatype !== 'string' || !DATATYPE_SET.has(datatype)) return false;
  if (!Array.isArray(shape) || shape.length > 8 || !shape.every((n) => Number.isSafeInteger(n) && (n as number) >= 0)) return false;
  return isParameters(parameters) && Array.isArray(data);
}

/**
 * The envelope checked without zod, as the infer route's quick check (JsonRoute.accept): zod's array of unknown
 * still visits and copies every element of every tensor. Returns the body as it is when inferenceRequestSchema
 * accepts it (its unknown keys are ignored downstream, as the schema's output drops them), else undefined: the
 * schema then decides and words the 400. It never accepts what the schema refuses (a property test holds it to it).
 */
export function acceptInferenceRequest(body: unknown): InferenceRequest | undefined {
  if (!isObject(body)) return undefined;
  const { id, parameters, inputs, outputs } = body;
  if (id !== undefined && !(typeof id === 'string' && id.length <= 200)) return undefined;
  if (!isParameters(parameters)) return undefined;
  if (!Array.isArray(inputs) || inputs.length < 1 || !inputs.every(isRequestInput)) return undefined;
  if (outputs !== undefined) {
    if (!Array.isArray(outputs)) return undefined;
    for (const output of outputs)
      if (!isObject(output) || typeof output.name !== 'string' || !isParameters(output.parameters)) return undefined;
  }
  return body as InferenceRequest;
}

const tensorMetadata = z.object({
  name: z.string(),
  datatype: z.enum(DATATYPES),
  shape: z.array(z.number().int()).meta({ description: '-1: any number of rows' }),
  parameters: z
    .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
    .optional()
    .meta({ description: 'optional: true for a feature that may be left out; classes: the class names in column order, as JSON' }),
});

const responseOutput = z.object({
  name: z.string(),
  shape: z.array(z.number().int().min(0)),
  datatype: z.enum(DATATYPES),
  parameters: z
    .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
    .optional()
    .meta({ description: 'The explanation outputs: scale, and features (the columns of explanation_contributions, as JSON)' }),
  data: z.array(z.union([z.string(), z.number()])).meta({ description: 'Row-major, flat' }),
});

/** The answers, by component name in the OpenAPI document. */
export const openInferenceAnswers = {
  ServerMetadataResponse: z.object({
    name: z.string().meta({ description: 'config.yaml name' }),
    version: z.string().meta({ description: 'config.yaml version (the API version)' }),
    extensions: z.array(z.string()),
  }),
  ServerLiveResponse: z.object({ live: z.boolean() }),
  ServerReadyResponse: z.object({ ready: z.boolean() }),
  ModelMetadataResponse: z.object({
    name: z.string(),
    versions: z.array(z.string()).meta({ description: "The served model's version: its model_bin/ folder" }),
    platform: z.literal('onnx_onnxv1'),
    inputs: z.array(tensorMetadata).meta({ description: 'One per feature of features.yaml, in its order' }),
    outputs: z.array(tensorMetadata),
  }),
  ModelReadyResponse: z.object({ name: z.string(), ready: z.boolean() }),
  InferenceResponse: z.object({
    model_name: z.string(),
    model_version: z.string(),
    id: z.string().meta({ description: "The request's id, or the X-Request-Id when it had none" }),
    outputs: z.array(responseOutput),
  }),
  /** The protocol's error body is {"error": string}: V2 clients show `error`, so it says what went wrong. */
  InferenceErrorResponse: z.object({
    error: z.string().meta({ description: 'What went wrong (V2 clients show this)' }),
    code: z.string().meta({ description: 'Machine-readable error code', examples: ['validation_failed'] }),
    issues: z
      .array(z.object({ field: z.string(), message: z.string() }))
      .optional()
      .meta({ description: 'The failing tensor elements or fields, the first 100 of them' }),
    issue_count: z.number().int().optional(),
    request_id: z.string().optional().meta({ description: 'The id the error is logged under (500 only)' }),
  }),
};

/** How many of a bad request's issues `error` spells out (all of them are in `issues`). */
const ISSUES_IN_TEXT = 5;

/**
 * An error answer of the service ({error: code, message, …}) in the protocol's form: `error` is the message (with
 * the first issues), `code` the service's code; the other fields stay.
 */
export function openInferenceError({ error, message, ...rest }: { error: string; message: string; [extra: string]: unknown }): {
  error: string;
  code: string;
  [extra: string]: unknown;
} {
  const issues = Array.isArray(rest.issues) ? (rest.issues as { field: string; message: string }[]) : [];
  const listed = issues.slice(0, ISSUES_IN_TEXT).map((issue) => `${issue.field}: ${issue.message}`);
  const more = Number(rest.issue_count ?? issues.length) > listed.length ? '; …' : '';
  return { error: listed.length ? `${message}: ${listed.join('; ')}${more}` : message, code: error, ...rest };
}

/** Whether a request's path is the protocol's: its errors are then written in its form. Express matches paths case-insensitively. */
export function isOpenInferencePath(url: string | undefined): boolean {
  if (!url) return false;
  const head = url.slice(0, OPEN_INFERENCE_PREFIX.length + 1).toLowerCase();
  return head === OPEN_INFERENCE_PREFIX || head === `${OPEN_INFERENCE_PREFIX}/` || head === `${OPEN_INFERENCE_PREFIX}?`;
}
