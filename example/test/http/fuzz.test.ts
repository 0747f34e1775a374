// Property-based fuzzing of the prediction routes (fast-check): thousands of random bodies, from almost valid
// rows (or V2 tensors) to hostile JSON and plain garbage, on the fast path and through Express. Whatever arrives, the
// service answers: never a 5xx, never a crash, every 4xx a JSON {error, message} with a message that says something
// (on the Open Inference Protocol's route {error, code}, its `error` saying what went wrong).
// fast-check prints the seed of any failure, so it can be replayed.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import fc from 'fast-check';
import { createRequestListener } from '../../src/http/app.js';
import { OnnxPredictor } from '../../src/runtime/predictor.js';
import type { Feature } from '../../src/contract/index.js';
import { DATATYPES } from '../../src/http/openInference/protocol.js';
import { SERVING_PATHS, withServer } from '../support/serving.js';
import { trainedProject, type TrainedProject } from '../support/trainedModel.js';

/** Runs per route and serving path; together several thousand requests, within the time bound below. */
const RUNS = 1000;
const TIME_LIMIT_MS = 30_000;

/** A valid value for the feature. */
function validValue(feature: Feature): fc.Arbitrary<unknown> {
  return feature.type === 'category'
    ? fc.constantFrom(...feature.values!)
    : feature.type === 'boolean'
      ? fc.boolean()
      : feature.type === 'string'
        ? fc.string()
        : feature.type === 'integer'
          ? fc.integer({ min: feature.min ?? -1e6, max: feature.max ?? 1e6 })
          : fc.double({ min: feature.min ?? -1e6, max: feature.max ?? 1e6, noNaN: true });
}

/** A value for the feature: valid, at or beyond its bounds, of a wrong type, or anything at all. */
function featureValue(feature: Feature): fc.Arbitrary<unknown> {
  const valid = validValue(feature);
  const edgy = fc.constantFrom(1e308, -1e308, Number.MAX_VALUE, Number.MIN_VALUE, -0, 2 ** 53 + 1, '', ' ', '1', 'NaN', [], {}, null, true);
  return fc.oneof({ weight: 16, arbitrary: valid }, { weight: 1, arbitrary: edgy }, { weight: 1, arbitrary: fc.anything() });
}

describe('fuzzing the prediction routes', function () {
  this.timeout(4 * TIME_LIMIT_MS + 60_000);
  let project: TrainedProject;
  const servers: { name: string; server: Server; url: string }[] = [];
  const prototypeKeys = Object.getOwnPropertyNames(Object.prototype);
  /** Errors the service logged as unexpected (its 500s): there must be none. */
  const unexpected: unknown[] = [];

  before(async () => {
    project = await trainedProject();
    const predictor = await OnnxPredictor.load(project.modelDir, project.spec);
    for (const { name, fast_path } of SERVING_PATHS) {
      const server = createServer(
        createRequestListener({
          spec: withServer(project.spec, { fast_path }),
          model: { predictor },
          onError: (error) => unexpected.push(error),
        }),
      );
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      servers.push({ name, server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` });
    }
  });

  after(async () => {
    for (const { server } of servers) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  /** A row: some features (valid or not), maybe the id, maybe extra and prototype-pollution keys. */
  const rowArbitrary = () => {
    const { features } = project.spec.features;
    const shape = Object.fromEntries(features.map((feature) => [feature.name, featureValue(feature)]));
    const values = fc.oneof({ weight: 3, arbitrary: fc.record(shape) }, { weight: 1, arbitrary: fc.record(shape, { requiredKeys: [] }) });
    const extraKey = fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString'), fc.string());
    const extra = fc.oneof(
      { weight: 3, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: fc.dictionary(extraKey, fc.anything(), { minKeys: 1, maxKeys: 3 }) },
    );
    const id = fc.oneof(
      { weight: 2, arbitrary: fc.constant(undefined) },
      { weight: 4, arbitrary: fc.oneof(fc.string({ minLength: 1, maxLength: 200 }), fc.integer()) },
      { weight: 1, arbitrary: fc.oneof(fc.string({ minLength: 201, maxLength: 300 }), fc.double(), fc.constant(null), fc.anything()) },
    );
    return fc.tuple(values, extra, id).map(([known, unknown, idValue]) => {
      // Assigned as own keys, like JSON.parse does; object spread or [key]= would treat "__proto__" specially.
      const row: Record<string, unknown> = {};
      for (const [key, value] of Object.entries({ ...known }))
        Object.defineProperty(row, key, { value, enumerable: true, writable: true, configurable: true });
      if (unknown)
        for (const key of Object.keys(unknown))
          Object.defineProperty(row, key, { value: unknown[key], enumerable: true, writable: true, configurable: true });
      if (idValue !== undefined) row[project.spec.config.id_field] = idValue;
      return row;
    });
  };

  /** The body's text: mostly JSON of the arbitrary, sometimes mangled or arbitrary text. */
  const bodyText = (value: fc.Arbitrary<unknown>) =>
    fc.oneof(
      { weight: 8, arbitrary: value.map((v) => JSON.stringify(v) ?? 'null') },
      { weight: 1, arbitrary: fc.tuple(value, fc.nat()).map(([v, cut]) => (JSON.stringify(v) ?? '').slice(0, cut)) },
      { weight: 1, arbitrary: fc.oneof(fc.json(), fc.string({ unit: 'binary' })) },
    );

  /** `said`: where an error answer says what went wrong (`message`; under /v2 the protocol's `error`, with our `code`). */
  const answered = async (url: string, text: string, said: 'message' | 'error') => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: text });
    const answer = await res.text();
    assert.ok(res.status < 500, `${res.status} for ${JSON.stringify(text).slice(0, 300)}: ${answer}`);
    const body = JSON.parse(answer) as Record<string, unknown>;
    if (res.status >= 400) {
      assert.equal(typeof body[said === 'message' ? 'error' : 'code'], 'string', answer);
      const explanation = body[said];
      assert.ok(typeof explanation === 'string' && explanation.trim().length > 0, answer);
    } else assert.equal(res.status, 200, answer);
    return body;
  };

  /** A V2 inference request: the rows as tensors (one per feature), often with a wrong datatype or shape, or any shape at all. */
  const inferenceArbitrary = () => {
    const { features } = project.spec.features;
    // Mostly the feature's own datatype (undefined here), so that a fair share of the requests is valid.
    const datatype = fc.oneof(
      { weight: 30, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: fc.constantFrom(...DATATYPES) },
      { weight: 1, arbitrary: fc.string() },
    );
    const mostly = <T>(valid: fc.Arbitrary<T>) => fc.oneof({ weight: 6, arbitrary: valid }, { weight: 1, arbitrary: fc.anything() });
    const natural = { number: 'FP64', integer: 'INT64', boolean: 'BOOL', category: 'BYTES', string: 'BYTES' } as const;
    const tabular = fc
      .tuple(
        // Valid rows half the time: the rest of the request is then what decides.
        fc.array(fc.oneof(fc.record(Object.fromEntries(features.map((feature) => [feature.name, validValue(feature)]))), rowArbitrary()), {
          minLength: 1,
          maxLength: 5,
        }),
        fc.array(datatype, { minLength: features.length, maxLength: features.length }),
        fc.nat(6),
      )
      .map(([rows, types, nesting]) => ({
        inputs: features
          .filter((feature) => rows.some((row) => Object.hasOwn(row, feature.name)))
          .map((feature, i) => ({
            name: feature.name,
            // Mostly [N]; sometimes [N, 1] with the data nested, or a shape that does not hold the data.
            shape: nesting === 1 ? [rows.length, 1] : nesting === 2 ? [rows.length + 1] : [rows.length],
            datatype: types[i] ?? natural[feature.type],
            data: rows
              .map((row) => (Object.hasOwn(row, feature.name) ? row[feature.name] : null))
              .map((value) => (nesting === 1 ? [value] : value)),
          })),
      }));
    const matrix = fc
      .tuple(
        fc.nat(4),
        fc.integer({ min: -1, max: 1 }),
        fc.array(fc.oneof(fc.double(), fc.integer(), fc.anything()), { maxLength: 25 }),
        datatype,
        fc.boolean(),
      )
      .map(([rows, extra, values, type, nested]) => {
        const width = features.length + extra;
        const data = nested ? Array.from({ length: rows }, (_, r) => values.slice(r * width, (r + 1) * width)) : values;
        return { inputs: [{ name: 'input-0', shape: [rows, width], datatype: type ?? 'FP64', data }] };
      });
    const envelope = fc.record(
      {
        id: mostly(fc.string({ maxLength: 200 })),
        parameters: mostly(fc.dictionary(fc.string(), fc.jsonValue())),
        outputs: mostly(
          fc
            .subarray(['prediction', 'probabilities', project.spec.config.id_field, 'unknown'])
            .chain((names) => fc.shuffledSubarray(names, { minLength: names.length }))
            .map((names) => names.map((name) => ({ name }))),
        ),
      },
      { requiredKeys: [] },
    );
    const anyInputs = fc.record({
      inputs: fc.array(
        fc.record(
          {
            name: fc.oneof(fc.constantFrom(...features.map((feature) => feature.name), '__proto__', 'constructor'), fc.string()),
            shape: fc.oneof(fc.array(fc.integer({ min: -2, max: 6 }), { maxLength: 3 }), fc.anything()),
            datatype: fc.oneof(fc.constantFrom(...DATATYPES), fc.anything()),
            data: fc.oneof(fc.array(fc.anything(), { maxLength: 8 }), fc.anything()),
            parameters: fc.anything(),
          },
          { requiredKeys: [] },
        ),
        { maxLength: 4 },
      ),
    });
    return fc
      .tuple(fc.oneof({ weight: 4, arbitrary: tabular }, { weight: 2, arbitrary: matrix }, { weight: 2, arbitrary: anyInputs }), envelope)
      .map(([inputs, extra]) => ({ ...extra, ...inputs }));
  };

  // The route and the body's arbitrary are made once the project is loaded.
  const routes = [
    { label: '/predict', route: () => '/predict', body: () => rowArbitrary(), said: 'message' },
    {
      label: '/predict/batch',
      route: () => '/predict/batch',
      body: () => fc.record({ rows: fc.array(rowArbitrary(), { maxLength: 5 }) }, { requiredKeys: [] }),
      said: 'message',
    },
    {
      label: '/v2/models/{model_name}/infer',
      route: () => `/v2/models/${project.spec.config.name}/infer`,
      body: () => inferenceArbitrary(),
      said: 'error',
    },
  ] as const;

  for (const { label, route: routeOf, body: bodyOf, said } of routes) {
    it(`answers ${RUNS} random bodies on POST ${label} without a 5xx, on both serving paths`, async () => {
      const [route, body] = [routeOf(), bodyOf() as fc.Arbitrary<unknown>];
      for (const { name, url } of servers) {
        await fc
          .assert(
            fc.asyncProperty(bodyText(body), async (text) => {
              await answered(`${url}${route}`, text, said);
            }),
            { numRuns: RUNS, interruptAfterTimeLimit: TIME_LIMIT_MS / 2, markInterruptAsFailure: false, endOnFailure: true },
          )
          .catch((error: unknown) => assert.fail(`${name}: ${(error as Error).message}`));
      }
      assert.deepEqual(unexpected, [], 'no request ended in an unexpected error');
      assert.deepEqual(Object.getOwnPropertyNames(Object.prototype), prototypeKeys, 'Object.prototype is untouched');
    });
  }
});
