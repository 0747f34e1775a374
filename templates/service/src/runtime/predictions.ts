// The runtime's data plane, shared by the HTTP routes: runs the model for validated feature rows, times the call
// itself, writes the answer (wireFormat.ts) and, once the answer is sent, publishes one prediction event per
// request. Monitoring and the prediction log subscribe to it and know nothing of HTTP; the runtime knows nothing
// of them (Seldon MLServer's data plane times the model call the same way, its runtimes knowing nothing of metrics).
// Subscribers are called in turn, never awaited by the request and never failing it: a subscriber's error is
// handed to onError with the request's id.
import { modelIdentity, type ModelIdentity } from '../model/modelIdentity.js';
import type { Explanation } from '../model/explanation/explainer.js';
import { classIndexAt } from '../model/modelTypes.js';
import { FeatureTable, type FeatureValues } from '../contract/index.js';
import { withExplanations, type RowExplainer } from './explanations.js';
import { idList, MadeIds, type RowIds } from './uniqueIds.js';
import { outputsOf, predictionsOf, type ModelOutputs, type Prediction, type Predictor } from './predictor.js';
import {
  batchAnswerJson,
  outputAnswersJson,
  outputBatchAnswerJson,
  predictAnswerJson,
  rowAnswerJson,
  type AnsweredPredictions,
  type JsonText,
} from './wireFormat.js';

/** What a prediction request asks for: the caller's names for it (route, request id) are carried, not read. */
export interface PredictionRequest {
  readonly predictor: Predictor;
  /** The validated feature rows (without the id field). */
  readonly rows: readonly FeatureValues[];
  /** Each row's id, echoed in the answer and logged. */
  readonly ids: readonly unknown[];
  /** One answer per row under `predictions` (POST /predict/batch), or a single row's answer (POST /predict). */
  readonly batch: boolean;
  /** Where the request came in, e.g. /predict: the observers' label for it. */
  readonly route: string;
  readonly requestId: string;
  /** performance.now() when the request arrived: the latency is measured from it. */
  readonly startedAt: number;
  /** ?explain=true: adds each row's explanation to its answer (not to the prediction log). */
  readonly explainer?: RowExplainer;
  /**
   * Writes the answer in a protocol of the caller's (the Open Inference Protocol's tensors); absent: /predict's
   * JSON. The prediction event, and so the log and monitoring, are the same either way.
   */
  readonly writeAnswer?: AnswerWriter;
}

/** An answer written from the request's results (one per row, in order), ids and the model's identity. */
export type AnswerWriter = (answered: {
  results: readonly Prediction[];
  ids: readonly unknown[];
  model: ModelIdentity;
  /** Each row's explanation, when the request asked for them (its explainer). */
  explanations?: readonly Explanation[];
}) => string;

/**
 * A batch as the batch path takes it (Predictions.predictBatch): the validated rows by column (a V2 request's
 * tensors, or a /predict/batch body's own rows read a feature at a time), so no row is copied or built.
 */
export type BatchPredictionRequest = Omit<PredictionRequest, 'rows' | 'ids' | 'batch' | 'explainer' | 'writeAnswer'> & {
  readonly table: FeatureTable;
  /** Each row's id, or a block made up for every row (written out only if the answer or a reader wants them). */
  readonly ids: RowIds;
  /** Writes the answer from the model's outputs in a protocol of the caller's (V2 tensors); absent: /predict/batch's JSON. */
  readonly writeOutputs?: OutputsWriter;
};

/** An answer written from the model's outputs (typed arrays), the rows' ids and the model's identity. */
export type OutputsWriter = (answered: { outputs: ModelOutputs; ids: RowIds; model: ModelIdentity }) => string;

/** One run of the model, reported right after it returns (on the request path: observers keep it constant-time). */
export interface ModelCall {
  readonly predictor: Predictor;
  readonly route: string;
  readonly batch: boolean;
  readonly rows: number;
  /** Time in the model. */
  readonly seconds: number;
  /** True when the model call threw: `error` is what it threw (the request then fails with it). */
  readonly failed: boolean;
  readonly error: unknown;
}

/** One answered request: its rows, ids, results, each row's answer JSON, the model's identity and the latency. */
export interface PredictionEvent extends AnsweredPredictions {
  readonly predictor: Predictor;
  readonly route: string;
  readonly batch: boolean;
  readonly requestId: string;
  readonly answers: readonly string[];
  /** The rows by column: what monitoring reads (the rows themselves are built from it when a reader asks). */
  readonly table: FeatureTable;
  /** Each row's prediction (its class, or its value): what monitoring counts, without reading `results`. */
  readonly predictions: ArrayLike<string | number>;
  /** When every row's id was made up here: their block, which the feedback store keeps without reading `ids`. */
  readonly madeIds?: MadeIds;
}

export interface PredictionObserver {
  modelCall?(call: ModelCall): void;
  prediction?(event: PredictionEvent): void;
}

export interface PredictionAnswer {
  /** The answer's JSON (a batch's in pieces). */
  json: JsonText;
  /** Publishes the request's prediction event: call it once the answer is sent. */
  publish(): void;
}

export interface PredictionsOptions {
  idField: string;
  /** The features' names in order (features.yaml). */
  featureNames: readonly string[];
  /** config.yaml's version: the API's version, beside the model's identity in every answer. */
  apiVersion: string;
  /** Told of an observer's error; the request has its answer already. */
  onError: (error: unknown, requestId: string) => void;
}

export class Predictions {
  private readonly observers: PredictionObserver[] = [];
  /** Each served model's identity, made once (the answers' JSON for it is cached by identity). */
  private readonly identities = new WeakMap<Predictor, ModelIdentity>();

  constructor(private readonly options: PredictionsOptions) {}

  subscribe(observer: PredictionObserver): void {
    this.observers.push(observer);
  }

  identity(predictor: Predictor): ModelIdentity {
    let identity = this.identities.get(predictor);
    if (!identity) this.identities.set(predictor, (identity = modelIdentity(predictor)));
    return identity;
  }

  /** Runs the model on the rows and writes the answer; the event waits for publish(). */
  async predict(request: PredictionRequest): Promise<PredictionAnswer> {
    const { predictor, rows, ids, batch, route, requestId, startedAt, explainer, writeAnswer } = request;
    const results = await this.runModel({ ...request, rowCount: rows.length }, () => predictor.predict(rows));
    const explanations = explainer?.explain(rows, results);
    const latencyMs = performance.now() - startedAt;
    const { idField, featureNames, apiVersion } = this.options;
    const model = this.identity(predictor);
    const answers = results.map((result, i) => rowAnswerJson(idField, ids[i], result));
    const sent = explanations ? withExplanations(answers, explanations) : answers;
    const json = writeAnswer
      ? writeAnswer({ results, ids, model, explanations })
      : batch
        ? batchAnswerJson(sent, model, apiVersion)
        : predictAnswerJson(sent[0]!, model, apiVersion);
    const event: PredictionEvent = {
      predictor,
      route,
      batch,
      requestId,
      idField,
      featureNames,
      ids,
      rows,
      table: FeatureTable.fromRows(featureNames, rows),
      results,
      answers,
      predictions: results.map((result) => result.prediction),
      model,
      apiVersion,
      latencyMs,
    };
    return { json, publish: () => this.notify(requestId, (observer) => observer.prediction?.(event)) };
  }

  /**
   * The batch path, columns through: one model run into typed arrays (Predictor.predictOutputs), the answer written
   * from them (outputBatchAnswerJson, or the caller's writeOutputs), and no object per row; the event's per-row answers and
   * Prediction objects are made only if a subscriber reads them (the prediction log, off the answer's path). The
   * answer is byte for byte predict()'s. A predictor without predictOutputs has its predictions made outputs.
   */
  async predictBatch(request: BatchPredictionRequest): Promise<PredictionAnswer> {
    const { predictor, table, ids, route, requestId, startedAt, writeOutputs } = request;
    const { metadata } = predictor;
    const outputs = await this.runModel({ ...request, batch: true, rowCount: table.rowCount }, async () =>
      predictor.predictOutputs ? predictor.predictOutputs(table) : outputsOf(metadata, await predictor.predict(table.rows)),
    );
    const latencyMs = performance.now() - startedAt;
    const { idField, featureNames, apiVersion } = this.options;
    const model = this.identity(predictor);
    const classes = metadata.task === 'classification' ? metadata.classes : undefined;
    const json = writeOutputs
      ? writeOutputs({ outputs, ids, model })
      : outputBatchAnswerJson(idField, idList(ids), outputs, classes, model, apiVersion);
    const event = new OutputsEvent(
      { predictor, route, batch: true, requestId, idField, featureNames, table, model, apiVersion, latencyMs },
      ids,
      outputs,
      classes,
    );
    return { json, publish: () => this.notify(requestId, (observer) => observer.prediction?.(event)) };
  }

  /** Runs the model (`run`), timing it and telling the observers of the call. */
  private async runModel<T>(
    {
      predictor,
      rowCount,
      batch,
      route,
      requestId,
    }: Pick<PredictionRequest, 'predictor' | 'batch' | 'route' | 'requestId'> & { rowCount: number },
    run: () => Promise<T>,
  ): Promise<T> {
    const started = performance.now();
    let results: T | undefined;
    let failure: { error: unknown } | undefined;
    try {
      results = await run();
    } catch (error) {
      failure = { error };
    }
    const seconds = (performance.now() - started) / 1000;
    const call: ModelCall = { predictor, route, batch, rows: rowCount, seconds, failed: failure !== undefined, error: failure?.error };
    this.notify(requestId, (observer) => observer.modelCall?.(call));
    if (failure) throw failure.error;
    return results!;
  }

  /** Tells every observer, each on its own: one that throws neither stops the others nor fails the request. */
  private notify(requestId: string, tell: (observer: PredictionObserver) => void): void {
    for (const observer of this.observers) {
      try {
        tell(observer);
      } catch (error) {
        this.options.onError(error, requestId);
      }
    }
  }
}

/**
 * The event of a batch answered from the model's outputs: its rows and per-row views of the outputs are made when
 * first read. A class, not an object literal with getters: a literal's getters are new closures each time, and
 * V8 gives each such object a map of its own that keeps the batch alive until a full GC.
 */
class OutputsEvent implements PredictionEvent {
  readonly predictor: Predictor;
  readonly route: string;
  readonly batch: boolean;
  readonly requestId: string;
  readonly idField: string;
  readonly featureNames: readonly string[];
  readonly table: FeatureTable;
  readonly model: ModelIdentity;
  readonly apiVersion: string;
  readonly latencyMs: number;
  private resultList: Prediction[] | undefined;
  private answerList: string[] | undefined;
  private predictionList: ArrayLike<string | number> | undefined;

  constructor(
    fields: Omit<PredictionEvent, 'rows' | 'ids' | 'results' | 'answers' | 'predictions' | 'madeIds'>,
    private readonly rowIds: RowIds,
    private readonly outputs: ModelOutputs,
    private readonly classes: readonly string[] | undefined,
  ) {
    this.predictor = fields.predictor;
    this.route = fields.route;
    this.batch = fields.batch;
    this.requestId = fields.requestId;
    this.idField = fields.idField;
    this.featureNames = fields.featureNames;
    this.table = fields.table;
    this.model = fields.model;
    this.apiVersion = fields.apiVersion;
    this.latencyMs = fields.latencyMs;
  }

  get rows(): readonly FeatureValues[] {
    return this.table.rows;
  }

  get ids(): readonly unknown[] {
    return idList(this.rowIds);
  }

  get madeIds(): MadeIds | undefined {
    return this.rowIds instanceof MadeIds ? this.rowIds : undefined;
  }

  get results(): Prediction[] {
    return (this.resultList ??= predictionsOf(this.predictor.metadata, this.outputs));
  }

  get answers(): string[] {
    return (this.answerList ??= outputAnswersJson(this.idField, this.ids, this.outputs, this.classes));
  }

  get predictions(): ArrayLike<string | number> {
    if (!this.predictionList) {
      const { outputs, classes } = this;
      const { rows, scores } = outputs;
      if (!classes) this.predictionList = scores.subarray(0, rows);
      else {
        const predicted = new Array<string>(rows);
        for (let r = 0; r < rows; r++) predicted[r] = classes[classIndexAt(scores, r * classes.length, classes.length)]!;
        this.predictionList = predicted;
      }
    }
    return this.predictionList;
  }
}
