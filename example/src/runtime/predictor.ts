// Inference: validated rows → preprocessor → float32/double tensor → onnxruntime-node → predictions.
// Loading picks the model folder (config.yaml server.model_version, else model_bin/LATEST), checks the
// model against features.yaml and config.yaml, and reads its input and output from the session
// (src/model/onnxSignature.ts), so a model trained for another spec, or exported in a shape the service
// cannot read, is refused at start-up with a message saying what differs, instead of answering nonsense.
import * as ort from 'onnxruntime-node';
import { featureDifferences, ModelLoadError, readArtifacts, resolveModelDir, type ServedMetadata } from '../model/artifacts.js';
import { classIndex } from '../model/modelTypes.js';
import { probabilityProblem, resolveSignature, softmax, type ModelSignature } from '../model/onnxSignature.js';
import { encodeColumnsInto, encodeRows, encoderWidth, rawFeatureEncoders } from '../model/preprocessing.js';
import { Preprocessor } from '../model/preprocessor.js';
import { type Spec, exampleRow, FeatureTable, type FeatureColumns, type FeatureValues } from '../contract/index.js';

export interface Prediction {
  /** The class name (classification) or the predicted value (regression). */
  prediction: string | number;
  /** Probability per class name (classification only). */
  probabilities?: Record<string, number>;
}

/**
 * A model run's outputs for a batch of rows, as typed arrays: what the batch answer is written from
 * (wireFormat.ts outputAnswersJson) and what predictionsOf makes Prediction objects of.
 */
export interface ModelOutputs {
  readonly rows: number;
  /**
   * Classification: each row's probability per class (metadata.classes' order), rows × classes, row-major (a
   * model giving logits has had its softmax taken). Regression: each row's value.
   */
  readonly scores: Float32Array | Float64Array;
}

/** The Prediction objects for a model's outputs: the class and probability per class, or the value. */
export function predictionsOf(metadata: Pick<ServedMetadata, 'task' | 'classes'>, { rows, scores }: ModelOutputs): Prediction[] {
  const predictions = new Array<Prediction>(rows);
  if (metadata.task === 'regression') {
    for (let r = 0; r < rows; r++) predictions[r] = { prediction: scores[r]! };
    return predictions;
  }
  const classes = metadata.classes;
  for (let r = 0; r < rows; r++) {
    const row = scores.subarray(r * classes.length, (r + 1) * classes.length);
    const byClass: Record<string, number> = {};
    classes.forEach((name, c) => (byClass[name] = row[c]!));
    predictions[r] = { prediction: classes[classIndex(row)]!, probabilities: byClass };
  }
  return predictions;
}

/**
 * predictionsOf's inverse: the outputs of a predictor that gives Prediction objects only (Predictor.predictOutputs
 * absent), so that the batch path has one way through.
 */
export function outputsOf(metadata: Pick<ServedMetadata, 'task' | 'classes'>, predictions: readonly Prediction[]): ModelOutputs {
  const rows = predictions.length;
  if (metadata.task === 'regression') return { rows, scores: Float64Array.from(predictions, ({ prediction }) => Number(prediction)) };
  const { classes } = metadata;
  const scores = new Float64Array(rows * classes.length);
  predictions.forEach(({ prediction, probabilities }, r) =>
    // A prediction without probabilities is certain of its class (the answer then names it, as predict()'s does).
    classes.forEach(
      (name, c) => (scores[r * classes.length + c] = probabilities ? (probabilities[name] ?? NaN) : Number(name === prediction)),
    ),
  );
  return { rows, scores };
}

/** Rows → the model's input matrix: the project's Preprocessor, or the fixed encoding of a model without one. */
interface RowEncoder {
  readonly outputSize: number;
  transform(rows: readonly FeatureValues[]): number[][];
  /** transform()'s numbers written straight into the input tensor, from the batch read by column. */
  transformInto?(batch: FeatureColumns, out: Float32Array | Float64Array): void;
}

/** Where transformInto() and transform() disagree on these rows, if anywhere (a row transform() refuses is skipped). */
function encodingDisagreement(encoder: RowEncoder, featureNames: readonly string[], rows: readonly FeatureValues[]): string | undefined {
  const width = encoder.outputSize;
  for (const row of rows) {
    let values: number[];
    try {
      values = encoder.transform([row])[0]!;
    } catch {
      continue;
    }
    const written = new Float64Array(width);
    try {
      encoder.transformInto!(FeatureTable.fromRows(featureNames, [row]), written);
    } catch (error) {
      return `${JSON.stringify(row)}: transform() encodes it, transformInto() throws ${(error as Error).message}`;
    }
    if (values.length !== width) return `transform() gave ${values.length} values for a row, outputSize is ${width}`;
    for (let c = 0; c < width; c++) {
      if (!Object.is(values[c], written[c]))
        return `column ${c} of ${JSON.stringify(row)}: transform() gives ${values[c]}, transformInto() ${written[c]}`;
    }
  }
  return undefined;
}

/** Every way the saved model disagrees with the spec; empty when it matches. */
export function specMismatches(metadata: Pick<ServedMetadata, 'task' | 'target' | 'features' | 'classes'>, spec: Spec): string[] {
  const problems: string[] = [];
  const { config } = spec;
  if (metadata.task !== config.task) problems.push(`model task is ${metadata.task}, config.yaml says ${config.task}`);
  if (metadata.target !== config.target) problems.push(`model target is "${metadata.target}", config.yaml says "${config.target}"`);
  problems.push(...featureDifferences(metadata.features ?? [], spec.features.features));
  if (config.task === 'classification' && !metadata.classes?.length) problems.push('model.json lists no classes');
  return problems;
}

/**
 * What the API predicts with: an OnnxPredictor in this thread, or one of the wrappers around it that keep the
 * same surface (InferencePool: worker threads, MicroBatcher: concurrent single rows share one run).
 */
export interface Predictor {
  readonly metadata: ServedMetadata;
  /** The model folder served, e.g. model_bin/20250101T120000Z-1a2b3c4d. */
  readonly modelDir: string;
  predict(rows: readonly FeatureValues[]): Promise<Prediction[]>;
  /**
   * The batch path: the model's outputs as typed arrays, without a Prediction per row (see ModelOutputs), for a
   * batch read by column. Absent in a predictor that cannot give them: callers then use predict().
   */
  predictOutputs?(batch: FeatureTable): Promise<ModelOutputs>;
  /** Releases the model: its onnxruntime session, the pool's threads, the micro-batcher's timer. Not used after. */
  close?(): Promise<void>;
}

/** A request value the model cannot compute with (its scaled value overflows); the API answers 422. */
export class InputRangeError extends Error {
  override name = 'InputRangeError';
  readonly status = 422;
}

/**
 * The model's scores when every one is a finite number. An overflow (±Infinity, or NaN from Infinity − Infinity)
 * comes from request values the model cannot compute with, though each fits its input: a 422 like a value too
 * large for the input, never a 200 whose prediction JSON writes as null.
 */
function finiteScores(scores: Float32Array | Float64Array, rowCount: number): { scores: Float32Array | Float64Array; rowCount: number } {
  const width = scores.length / rowCount;
  for (let i = 0; i < scores.length; i++) {
    if (!Number.isFinite(scores[i]!))
      throw new InputRangeError(
        `row ${Math.floor(i / width)} holds numbers too large for the model (its output overflows); bound them with min/max in features.yaml`,
      );
  }
  return { scores, rowCount };
}

/** The model run in this thread by onnxruntime-node. */
export class OnnxPredictor implements Predictor {
  private constructor(
    readonly metadata: ServedMetadata,
    /** The model folder served, e.g. model_bin/20250101T120000Z-1a2b3c4d. */
    readonly modelDir: string,
    private readonly session: ort.InferenceSession,
    private readonly encoder: RowEncoder,
    private readonly signature: ModelSignature,
    /** The features' names: transform() is given rows of these keys only. */
    private readonly featureNames: readonly string[],
  ) {}

  /** Loads the model from `modelDir`: one model's folder, or the store holding version folders. */
  static async load(modelDir: string, spec: Spec): Promise<OnnxPredictor> {
    const dir = await resolveModelDir(modelDir, spec.config.server.model_version);
    const { onnx, preprocessor: state, metadata } = await readArtifacts(dir, spec.config.version);
    const refuse = (why: string, problems: string[]) => new ModelLoadError(`The model in ${dir} ${why}:\n  ${problems.join('\n  ')}`);
    const mismatches = specMismatches(metadata, spec);
    if (mismatches.length) throw refuse('does not match features.yaml / config.yaml (retrain with `npm run train`)', mismatches);

    const featureNames = spec.features.features.map((feature) => feature.name);
    let encoder: RowEncoder;
    if (state) encoder = Preprocessor.fromJSON(spec.features.features, state);
    else {
      // A model trained elsewhere, without preprocessor.json, takes the features as they are (see rawFeatureEncoders).
      const { encoders, problems } = rawFeatureEncoders(spec.features.features);
      if (problems.length) throw refuse('has no preprocessor.json, so it would take the features as they are, which cannot work', problems);
      encoder = {
        outputSize: encoders.reduce((n, e) => n + encoderWidth(e), 0),
        transform: (rows) => encodeRows(encoders, rows),
        transformInto: (batch, out) => encodeColumnsInto(encoders, batch, out),
      };
    }
    if (encoder.transformInto) {
      // A project's transformInto() must write what its transform() gives (see src/model/preprocessor.ts): checked
      // on the example row and on a row with every optional feature left out.
      const example = exampleRow(spec.features.features);
      const sparse: FeatureValues = { ...example };
      for (const feature of spec.features.features) if (!feature.required) sparse[feature.name] = feature.default;
      const disagreement = encodingDisagreement(encoder, featureNames, [example, sparse]);
      if (disagreement)
        throw refuse('cannot be served: src/model/preprocessor.ts transformInto() does not write what transform() gives', [disagreement]);
    }

    let session: ort.InferenceSession;
    try {
      // One thread per run keeps latency predictable and leaves the other cores to other requests; scale out with
      // server.workers (processes) or server.inference.worker_threads instead. Sequential execution: these
      // models are small graphs where parallel branches cost more in scheduling than they save.
      session = await ort.InferenceSession.create(onnx, {
        intraOpNumThreads: 1,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
      });
    } catch (error) {
      throw new ModelLoadError(`${dir}/model.onnx cannot be loaded by onnxruntime: ${(error as Error).message}`);
    }
    const { signature, problems } = resolveSignature(session.inputMetadata, session.outputMetadata, metadata, encoder.outputSize);
    // A refused model (a hot reload's included) must not keep its native memory.
    if (!signature) {
      await session.release();
      throw refuse('does not fit the project', problems);
    }
    const predictor = new OnnxPredictor(metadata, dir, session, encoder, signature, featureNames);
    await predictor.checkOutputs(exampleRow(spec.features.features)).catch(async (error: unknown) => {
      await session.release();
      throw error;
    });
    return predictor;
  }

  /** Runs the example row once: the output must have one score per class (probabilities summing to 1) or one value. */
  private async checkOutputs(row: FeatureValues): Promise<void> {
    const { scores, rowCount } = await this.run(FeatureTable.fromRows(this.featureNames, [row]));
    const width = scores.length / rowCount;
    const expected = this.metadata.task === 'classification' ? this.metadata.classes.length : 1;
    const problems: string[] = [];
    if (width !== expected) problems.push(`output ${this.signature.output.name} gave ${width} values per row, expected ${expected}`);
    else if (this.signature.output.scores === 'probabilities') {
      const problem = probabilityProblem(Array.from(scores));
      if (problem)
        problems.push(
          `output ${this.signature.output.name}: ${problem}; if it holds logits, set "onnx": { "scores": "logits" } in model.json`,
        );
    }
    if (problems.length)
      throw new ModelLoadError(`The ONNX model in ${this.modelDir} does not fit the project:\n  ${problems.join('\n  ')}`);
  }

  /** The batch encoded into the model's input tensor: by transformInto() when the encoder has it, else transform(). */
  private encode(batch: FeatureTable, data: Float32Array | Float64Array, width: number): void {
    if (this.encoder.transformInto) {
      this.encoder.transformInto(batch, data);
      return;
    }
    // transform() is promised rows of the features only (src/model/preprocessor.ts); a batch's rows may hold the id field.
    const { rows } = batch;
    const features = rows.map((row) => {
      const values: FeatureValues = {};
      for (const name of this.featureNames) values[name] = row[name];
      return values;
    });
    const matrix = this.encoder.transform(features);
    if (matrix.length !== rows.length) throw new Error(`the preprocessor produced ${matrix.length} rows for ${rows.length}`);
    for (let r = 0; r < matrix.length; r++) {
      const values = matrix[r]!;
      if (values.length !== width) throw new Error(`the preprocessor produced ${values.length} values (expected ${width}) for row ${r}`);
      data.set(values, r * width);
    }
  }

  private async run(batch: FeatureTable): Promise<{ scores: Float32Array | Float64Array; rowCount: number }> {
    const width = this.encoder.outputSize;
    const { input, output } = this.signature;
    const { rowCount } = batch;
    // The rows go straight into the tensor's buffer, then are checked there.
    const data = input.type === 'float64' ? new Float64Array(rowCount * width) : new Float32Array(rowCount * width);
    this.encode(batch, data, width);
    // value * 0 is 0 for a finite number and NaN otherwise: one sum finds whether any value is not finite without
    // a branch per value, and the loop below finds which only then.
    let zero = 0;
    for (let i = 0; i < data.length; i++) zero += data[i]! * 0;
    for (let i = 0; zero !== 0 && i < data.length; i++) {
      const value = data[i]!;
      if (Number.isFinite(value)) continue;
      // NaN would come out as NaN probabilities and class 0: a preprocessor bug, never a valid answer.
      const [r, c] = [Math.floor(i / width), i % width];
      if (Number.isNaN(value)) throw new Error(`the preprocessor produced ${value} in column ${c} for row ${r}`);
      // ±Infinity (after scaling, or in a float32 tensor) comes from a request value too large to compute with.
      throw new InputRangeError(`row ${r} holds a number too large for the model; bound it with min/max in features.yaml`);
    }
    const feed = (start: number, count: number) =>
      this.session.run(
        { [input.name]: new ort.Tensor(input.type, data.subarray(start * width, (start + count) * width), [count, width]) },
        [output.name],
      );
    if (!input.fixedBatch) {
      const results = await feed(0, rowCount);
      return finiteScores(results[output.name]!.data as Float32Array | Float64Array, rowCount);
    }
    // A model exported with batch size 1 takes one row per run.
    const parts: (Float32Array | Float64Array)[] = [];
    for (let r = 0; r < rowCount; r++) parts.push((await feed(r, 1))[output.name]!.data as Float32Array | Float64Array);
    if (parts.length === 1) return finiteScores(parts[0]!, rowCount);
    const scores = new Float64Array(parts.reduce((n, part) => n + part.length, 0));
    let offset = 0;
    for (const part of parts) {
      scores.set(part, offset);
      offset += part.length;
    }
    return finiteScores(scores, rowCount);
  }

  /** Frees the native session (its memory is outside V8's heap: dropping the object would not free it in time). */
  async close(): Promise<void> {
    await this.session.release();
  }

  async predictOutputs(batch: FeatureTable): Promise<ModelOutputs> {
    const { scores, rowCount } = await this.run(batch);
    if (this.metadata.task === 'regression' || this.signature.output.scores !== 'logits') return { rows: rowCount, scores };
    const classes = this.metadata.classes.length;
    const probabilities = new Float64Array(rowCount * classes);
    for (let r = 0; r < rowCount; r++) probabilities.set(softmax(scores.subarray(r * classes, (r + 1) * classes)), r * classes);
    return { rows: rowCount, scores: probabilities };
  }

  async predict(rows: readonly FeatureValues[]): Promise<Prediction[]> {
    return predictionsOf(this.metadata, await this.predictOutputs(FeatureTable.fromRows(this.featureNames, rows)));
  }
}

export { ModelLoadError };
