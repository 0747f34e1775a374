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
  answers: AnswerSchemas;
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

  const error = (description: string) => ({ description, schema: answers.Error });
  const { auth, rate_limit: rateLimit } = config.server;
  // What JsonRouteHandler answers on every JSON POST route, before the route's own answer.
  const bodyErrors: RouteResponses = {
    400: error('Malformed JSON'),
    413: error(`Body larger than ${config.server.body_limit_bytes} bytes`),
    415: error('Body is not application/json'),
    422: error('The body does not match its schema; `issues` lists the failing fields (the first 100), `issue_count` counts them'),
    503: error(`The model is not loaded yet, or the request was not answered within ${config.server.request_timeout_ms} ms`),
  };
  // What server.auth and server.rate_limit answer on every path they guard.
  const guardErrors: RouteResponses = {};
  if (keyed) guardErrors[401] = error(`No valid API key in the ${auth.header} header`);
  if (rateLimit.enabled) {
    guardErrors[429] = error(
      `More than ${rateLimit.requests} requests in ${rateLimit.window_seconds} s from this client; Retry-After says when to retry`,
    );
  }

  const paths: Record<string, Record<string, Operation>> = {};
  for (const route of routes) {
    if (!route.docs) continue;
    const { operationId, summary, description, tag } = route.docs;
    const open = !route.alwaysKeyed && auth.public_paths.some((path) => route.path === path || route.path.startsWith(`${path}/`));
    const operation: Operation = {
      summary,
      ...(description ? { description } : {}),
      tags: [tag],
      operationId,
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
      responses: content({ ...(route.method === 'POST' ? bodyErrors : {}), ...(open ? {} : guardErrors), ...route.responses }),
      ...(open && keyed ? { security: [] } : {}),
    };
    (paths[route.path] ??= {})[route.method.toLowerCase()] = operation;
  }

  return {
    openapi: '3.1.0',
    info: { title: config.name, version: config.version, description: config.description },
    ...(keyed ? { security: [{ ApiKey: [] }] } : {}),
    tags: [
      {
        name: 'Predictions',
        description: `Inputs are validated against features.yaml; unknown fields are ${config.server.unknown_fields === 'strip' ? 'dropped' : 'rejected'}`,
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
