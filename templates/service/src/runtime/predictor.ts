// Inference: validated rows → preprocessor → float32/double tensor → onnxruntime-node → predictions.
// Loading picks the model folder (config.yaml server.model_version, else model_bin/LATEST), checks the
// model against features.yaml and config.yaml, and reads its input and output from the session
// (src/model/onnxSignature.ts), so a model trained for another spec, or exported in a shape the service
// cannot read, is refused at start-up with a message saying what differs, instead of answering nonsense.
import * as ort from 'onnxruntime-node';
import { featureDifferences, ModelLoadError, readArtifacts, resolveModelDir, type ServedMetadata } from '../model/artifacts.js';
import { classIndex } from '../model/modelTypes.js';
import { probabilityProblem, resolveSignature, softmax, type ModelSignature } from '../model/onnxSignature.js';
import { encodeRows, encoderWidth, rawFeatureEncoders } from '../model/preprocessing.js';
import { Preprocessor } from '../model/preprocessor.js';
import { type Spec, exampleRow, type FeatureValues } from '../contract/index.js';

export interface Prediction {
  /** The class name (classification) or the predicted value (regression). */
  prediction: string | number;
  /** Probability per class name (classification only). */
  probabilities?: Record<string, number>;
}

/** Rows → the model's input matrix: the project's Preprocessor, or the fixed encoding of a model without one. */
interface RowEncoder {
  readonly outputSize: number;
  transform(rows: readonly FeatureValues[]): number[][];
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
  /** Releases the model: its onnxruntime session, the pool's threads, the micro-batcher's timer. Not used after. */
  close?(): Promise<void>;
}

/** A request value the model cannot compute with (its scaled value overflows); the API answers 422. */
export class InputRangeError extends Error {
  override name = 'InputRangeError';
  readonly status = 422;
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
  ) {}

  /** Loads the model from `modelDir`: one model's folder, or the store holding version folders. */
  static async load(modelDir: string, spec: Spec): Promise<OnnxPredictor> {
    const dir = await resolveModelDir(modelDir, spec.config.server.model_version);
    const { onnx, preprocessor: state, metadata } = await readArtifacts(dir, spec.config.version);
    const refuse = (why: string, problems: string[]) => new ModelLoadError(`The model in ${dir} ${why}:\n  ${problems.join('\n  ')}`);
    const mismatches = specMismatches(metadata, spec);
    if (mismatches.length) throw refuse('does not match features.yaml / config.yaml (retrain with `npm run train`)', mismatches);

    let encoder: RowEncoder;
    if (state) encoder = Preprocessor.fromJSON(spec.features.features, state);
    else {
      // A model trained elsewhere, without preprocessor.json, takes the features as they are (see rawFeatureEncoders).
      const { encoders, problems } = rawFeatureEncoders(spec.features.features);
      if (problems.length) throw refuse('has no preprocessor.json, so it would take the features as they are, which cannot work', problems);
      encoder = { outputSize: encoders.reduce((n, e) => n + encoderWidth(e), 0), transform: (rows) => encodeRows(encoders, rows) };
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
    const predictor = new OnnxPredictor(metadata, dir, session, encoder, signature);
    await predictor.checkOutputs(exampleRow(spec.features.features)).catch(async (error: unknown) => {
      await session.release();
      throw error;
    });
    return predictor;
  }

  /** Runs the example row once: the output must have one score per class (probabilities summing to 1) or one value. */
  private async checkOutputs(row: FeatureValues): Promise<void> {
    const { scores, rowCount } = await this.run([row]);
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

  private async run(rows: readonly FeatureValues[]): Promise<{ scores: Float32Array | Float64Array; rowCount: number }> {
    const matrix = this.encoder.transform(rows);
    const width = this.encoder.outputSize;
    const { input, output } = this.signature;
    // The rows go straight into the tensor's buffer, checked on the way (no flat() copy in between).
    const data = input.type === 'float64' ? new Float64Array(matrix.length * width) : new Float32Array(matrix.length * width);
    for (let r = 0; r < matrix.length; r++) {
      const values = matrix[r]!;
      if (values.length !== width) throw new Error(`the preprocessor produced ${values.length} values (expected ${width}) for row ${r}`);
      for (let c = 0; c < width; c++) {
        const value = values[c]!;
        // NaN would come out as NaN probabilities and class 0: a preprocessor bug, never a valid answer.
        if (Number.isNaN(value)) throw new Error(`the preprocessor produced ${value} in column ${c} for row ${r}`);
        data[r * width + c] = value;
        // ±Infinity (after scaling, or in a float32 tensor) comes from a request value too large to compute with.
        if (!Number.isFinite(data[r * width + c]!))
          throw new InputRangeError(`row ${r} holds a number too large for the model; bound it with min/max in features.yaml`);
      }
    }
    const feed = (start: number, count: number) =>
      this.session.run(
        { [input.name]: new ort.Tensor(input.type, data.subarray(start * width, (start + count) * width), [count, width]) },
        [output.name],
      );
    if (!input.fixedBatch) {
      const results = await feed(0, rows.length);
      return { scores: results[output.name]!.data as Float32Array | Float64Array, rowCount: rows.length };
    }
    // A model exported with batch size 1 takes one row per run.
    const parts: (Float32Array | Float64Array)[] = [];
    for (let r = 0; r < rows.length; r++) parts.push((await feed(r, 1))[output.name]!.data as Float32Array | Float64Array);
    if (parts.length === 1) return { scores: parts[0]!, rowCount: rows.length };
    const scores = new Float64Array(parts.reduce((n, part) => n + part.length, 0));
    let offset = 0;
    for (const part of parts) {
      scores.set(part, offset);
      offset += part.length;
    }
    return { scores, rowCount: rows.length };
  }

  /** Frees the native session (its memory is outside V8's heap: dropping the object would not free it in time). */
  async close(): Promise<void> {
    await this.session.release();
  }

  async predict(rows: readonly FeatureValues[]): Promise<Prediction[]> {
    const { scores } = await this.run(rows);
    if (this.metadata.task === 'regression') return rows.map((_, i) => ({ prediction: scores[i]! }));
    const classes = this.metadata.classes;
    return rows.map((_, i) => {
      const row = scores.subarray(i * classes.length, (i + 1) * classes.length);
      const probabilities = this.signature.output.scores === 'logits' ? softmax(row) : Array.from(row);
      const byClass: Record<string, number> = {};
      classes.forEach((name, c) => (byClass[name] = probabilities[c]!));
      return { prediction: classes[classIndex(probabilities)]!, probabilities: byClass };
    });
  }
}

export { ModelLoadError };
