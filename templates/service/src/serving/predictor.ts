// Inference: validated rows → preprocessor → float32 tensor → onnxruntime-node → predictions.
// Loading checks the model against features.yaml and config.yaml, so a model trained for another spec is
// refused at start-up with a message saying what differs, instead of answering nonsense.
import * as ort from 'onnxruntime-node';
import { readArtifacts, ModelLoadError, type ModelMetadata } from '../model/artifacts.js';
import { ONNX_INPUT, ONNX_PREDICTION, ONNX_PROBABILITIES } from '../model/modelTypes.js';
import { Preprocessor } from '../model/preprocessor.js';
import type { Spec } from '../spec/load.js';
import type { FeatureValues } from '../spec/requestSchema.js';

export interface Prediction {
  /** The class name (classification) or the predicted value (regression). */
  prediction: string | number;
  /** Probability per class name (classification only). */
  probabilities?: Record<string, number>;
}

/** Every way the saved model disagrees with the spec; empty when it matches. */
export function specMismatches(metadata: ModelMetadata, spec: Spec): string[] {
  const problems: string[] = [];
  const { config } = spec;
  if (metadata.task !== config.task) problems.push(`model task is ${metadata.task}, config.yaml says ${config.task}`);
  if (metadata.target !== config.target) problems.push(`model target is "${metadata.target}", config.yaml says "${config.target}"`);
  const declared = spec.features.features.map(({ name, type }) => `${name}:${type}`).join(', ');
  const trained = (metadata.features ?? []).map(({ name, type }) => `${name}:${type}`).join(', ');
  if (declared !== trained) problems.push(`model features [${trained}] differ from features.yaml [${declared}]`);
  if (config.task === 'classification' && !metadata.classes?.length) problems.push('model.json lists no classes');
  return problems;
}

function checkSession(session: ort.InferenceSession, task: string, width: number): string[] {
  const problems: string[] = [];
  const input = session.inputMetadata.find((value) => value.name === ONNX_INPUT);
  if (!input) problems.push(`the ONNX model has no input named "${ONNX_INPUT}" (inputs: ${session.inputNames.join(', ')})`);
  else if (input.isTensor) {
    if (input.type !== 'float32') problems.push(`ONNX input "${ONNX_INPUT}" is ${input.type}, expected float32`);
    const columns = input.shape[1];
    if (typeof columns === 'number' && columns !== width)
      problems.push(`ONNX input "${ONNX_INPUT}" takes ${columns} columns, the preprocessor produces ${width}`);
  }
  const needed = task === 'classification' ? [ONNX_PROBABILITIES] : [ONNX_PREDICTION];
  for (const name of needed) {
    if (!session.outputNames.includes(name))
      problems.push(`the ONNX model has no output named "${name}" (outputs: ${session.outputNames.join(', ')})`);
  }
  return problems;
}

export class Predictor {
  private constructor(
    readonly metadata: ModelMetadata,
    private readonly session: ort.InferenceSession,
    private readonly preprocessor: Preprocessor,
  ) {}

  static async load(modelDir: string, spec: Spec): Promise<Predictor> {
    const { onnx, preprocessor: state, metadata } = await readArtifacts(modelDir);
    const mismatches = specMismatches(metadata, spec);
    if (mismatches.length) {
      throw new ModelLoadError(
        `The model in ${modelDir} does not match the spec; retrain with \`npm run train\`:\n  ${mismatches.join('\n  ')}`,
      );
    }
    const preprocessor = Preprocessor.fromJSON(spec.features.features, state);
    let session: ort.InferenceSession;
    try {
      // One thread per request keeps latency predictable; scale out with processes instead.
      session = await ort.InferenceSession.create(onnx, {
        intraOpNumThreads: 1,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
      });
    } catch (error) {
      throw new ModelLoadError(`${modelDir}/model.onnx cannot be loaded by onnxruntime: ${(error as Error).message}`);
    }
    const problems = checkSession(session, spec.config.task, preprocessor.outputSize);
    if (problems.length) throw new ModelLoadError(`The ONNX model in ${modelDir} does not fit the project:\n  ${problems.join('\n  ')}`);
    return new Predictor(metadata, session, preprocessor);
  }

  async predict(rows: readonly FeatureValues[]): Promise<Prediction[]> {
    const matrix = this.preprocessor.transform(rows);
    const width = this.preprocessor.outputSize;
    const data = new Float32Array(rows.length * width);
    matrix.forEach((row, i) => data.set(row, i * width));
    const feeds = { [ONNX_INPUT]: new ort.Tensor('float32', data, [rows.length, width]) };
    if (this.metadata.task === 'regression') {
      const { [ONNX_PREDICTION]: output } = await this.session.run(feeds, [ONNX_PREDICTION]);
      const values = output!.data as Float32Array;
      return rows.map((_, i) => ({ prediction: values[i]! }));
    }
    const { [ONNX_PROBABILITIES]: output } = await this.session.run(feeds, [ONNX_PROBABILITIES]);
    const probabilities = output!.data as Float32Array;
    const classes = this.metadata.classes;
    return rows.map((_, i) => {
      const byClass: Record<string, number> = {};
      let best = 0;
      for (let c = 0; c < classes.length; c++) {
        const p = probabilities[i * classes.length + c]!;
        byClass[classes[c]!] = p;
        if (p > probabilities[i * classes.length + best]!) best = c;
      }
      return { prediction: classes[best]!, probabilities: byClass };
    });
  }
}

export { ModelLoadError };
