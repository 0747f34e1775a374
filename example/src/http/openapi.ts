// The OpenAPI 3.1 document, generated from the route table (routes.ts) and the zod schemas its routes name: the
// request bodies (the same schemas that validate them) and the answers per status. zod 4 emits JSON Schema 2020-12,
// which is OpenAPI 3.1's schema dialect, so the docs can never drift from the code.
import { z } from 'zod';
import type { Spec } from '../contract/index.js';
import type { AnswerSchemas } from './answerSchemas.js';
import type { Route, RouteResponses } from './routes.js';

interface Operation {
  responses: Record<string, unknown>;
  security?: unknown[];
  [key: string]: unknown;
}

/** Named schemas, which become #/components/schemas/<name>: the request bodies and the answers. */
export interface DocumentSchemas {
  requests: Record<string, z.ZodType>;
  /** The service's answers, and others (the Open Inference Protocol's). */
  answers: AnswerSchemas & Record<string, z.ZodType>;
}

/**
 * `keyed`: the service checks API keys (API_KEYS is set, or server.auth.enabled makes it required). Every operation
 * then needs the key and counts against the rate limit, except those server.auth.public_paths covers.
 */
export function buildOpenApiDocument(
  spec: Spec,
  routes: readonly Route[],
  { requests, answers }: DocumentSchemas,
  keyed = spec.config.server.auth.enabled,
): Record<string, unknown> {
  const { config } = spec;
  // Requests as the client may write them (defaults optional), answers as the service writes them (no extra keys).
  const components = {
    ...jsonSchemas(requests, 'input'),
    ...jsonSchemas(answers, 'output'),
  };
  const names = new Map<z.ZodType, string>(
    [...Object.entries(requests), ...Object.entries(answers)].map(([name, schema]) => [schema, name]),
  );
  const schemaOf = (schema: z.ZodType, io: 'input' | 'output') => {
    const name = names.get(schema);
    if (name) return { $ref: `#/components/schemas/${name}` };
    const { $schema: _, ...inline } = z.toJSONSchema(schema, { io, unrepresentable: 'any' });
    return inline;
  };
  const content = (routeResponses: RouteResponses) =>
    Object.fromEntries(
      Object.entries(routeResponses).map(([status, { description, schema }]) => [
        status,
        {
          description,
          content: schema
            ? { 'application/json': { schema: schemaOf(schema, 'output') } }
            : { 'text/plain': { schema: { type: 'string' } } },
        },
      ]),
    );

  const { auth, rate_limit: rateLimit } = config.server;
  const invalid =
    'The body (or a query parameter) does not match its schema; `issues` lists the failing fields (the first 100), `issue_count` counts them';
  /** What JsonRouteHandler answers on every JSON POST route before the route's own answer, in the route's error schema. */
  const bodyErrors = (error: (description: string) => RouteResponses[number], invalidStatus: number): RouteResponses => ({
    400: error(invalidStatus === 400 ? `Malformed JSON, or: ${invalid}` : 'Malformed JSON'),
    413: error(`Body larger than ${config.server.body_limit_bytes} bytes`),
    415: error('Body is not application/json'),
    ...(invalidStatus === 400 ? {} : { [invalidStatus]: error(invalid) }),
    503: error(`The model is not loaded yet, or the request was not answered within ${config.server.request_timeout_ms} ms`),
  });
  /** What server.auth and server.rate_limit answer on every path they guard. */
  const guardErrors = (error: (description: string) => RouteResponses[number]): RouteResponses => {
    const errors: RouteResponses = {};
    if (keyed) errors[401] = error(`No valid API key in the ${auth.header} header`);
    if (rateLimit.enabled) {
      errors[429] = error(
        `More than ${rateLimit.requests} requests in ${rateLimit.window_seconds} s from this client; Retry-After says when to retry`,
      );
    }
    return errors;
  };

  const paths: Record<string, Record<string, Operation>> = {};
  for (const route of routes) {
    if (!route.docs) continue;
    const { operationId, summary, description, tag } = route.docs;
    const errorSchema = route.errorSchema ?? answers.Error;
    const error = (text: string) => ({ description: text, schema: errorSchema });
    const open = !route.alwaysKeyed && auth.public_paths.some((path) => route.path === path || route.path.startsWith(`${path}/`));
    const operation: Operation = {
      summary,
      ...(description ? { description } : {}),
      tags: [tag],
      operationId,
      ...(route.parameters || (route.method === 'POST' && route.body.query)
        ? {
            parameters: [
              ...Object.entries(route.parameters ?? {}).map(([name, { description: about, example }]) => ({
                name,
                in: 'path',
                required: true,
                description: about,
                schema: { type: 'string' },
                ...(example === undefined ? {} : { example }),
              })),
              ...(route.method === 'POST' && route.body.query ? queryParameters(route.body.query.shape) : []),
            ],
          }
        : {}),
      ...(route.method === 'POST'
        ? {
            requestBody: {
              required: true,
              content: {
                'application/json': {
                  schema: schemaOf(route.body.schema, 'input'),
                  ...(route.example === undefined ? {} : { example: route.example }),
                },
              },
            },
          }
        : {}),
      responses: content({
        ...(route.method === 'POST' ? bodyErrors(error, route.body.invalidStatus ?? 422) : {}),
        ...(open ? {} : guardErrors(error)),
        ...route.responses,
      }),
      ...(open && keyed ? { security: [] } : {}),
    };
    (paths[route.path] ??= {})[route.method.toLowerCase()] = operation;
  }

  return {
    openapi: '3.1.0',
    info: {
      title: config.name,
      version: config.version,
      // Swagger UI shows this as Markdown above the operations.
      description: `${config.description}\n\nLive dashboard: [/dashboard](/dashboard) (requests, latency, predictions, drift, live accuracy, the prediction log${keyed ? '; it asks for an API key' : ''}).`,
    },
    ...(keyed ? { security: [{ ApiKey: [] }] } : {}),
    tags: [
      {
        name: 'Predictions',
        description: `Inputs are validated against features.yaml; unknown fields are ${config.server.unknown_fields === 'strip' ? 'dropped' : 'rejected'}`,
      },
      {
        name: 'Open Inference Protocol V2',
        description:
          "KServe's V2 REST data plane (also spoken by Seldon MLServer and NVIDIA Triton clients): tensors checked against features.yaml, " +
          'answered by the same model, logs and monitoring as /predict. Errors are {"error": "what went wrong", "code": …}',
      },
      { name: 'Health', description: 'Probes for load balancers and Kubernetes' },
      { name: 'Monitoring', description: 'Prometheus metrics, data drift, and ground truth for live accuracy' },
      { name: 'Models', description: 'The served model: swapped without a restart, and a shadow beside it' },
    ],
    paths,
    components: {
      schemas: components,
      ...(keyed ? { securitySchemes: { ApiKey: { type: 'apiKey', in: 'header', name: auth.header } } } : {}),
    },
  };
}

/** A route's query parameters (JsonRoute.query), each with its own schema and description. */
function queryParameters(shape: Record<string, z.ZodType>) {
  return Object.entries(shape).map(([name, schema]) => {
    const { $schema: _, description, ...inline } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
    return { name, in: 'query', required: !schema.safeParse(undefined).success, ...(description ? { description } : {}), schema: inline };
  });
}

/** The named zod schemas as JSON Schemas whose references point into #/components/schemas. */
function jsonSchemas(schemas: Record<string, z.ZodType>, io: 'input' | 'output') {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(schemas)) registry.add(schema, { id });
  const { schemas: named } = z.toJSONSchema(registry, { uri: (id) => `#/components/schemas/${id}`, io, unrepresentable: 'any' });
  for (const schema of Object.values(named)) {
    delete schema.$schema;
    delete schema.$id;
  }
  return named;
}
