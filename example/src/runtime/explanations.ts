// Explanations of served predictions (POST /predict?explain=true): the explainer of the model a predictor serves,
// built on the first request that asks for one (a request without explain=true costs nothing) from the model's
// own folder: model.onnx, preprocessor.json through the project's Preprocessor (the very encoding the prediction
// used) and explainer.json. A model the service cannot explain (trained elsewhere, or before explanations existed)
// is refused with the reason, once per model.
import { basename } from 'node:path';
import { readArtifacts } from '../model/artifacts.js';
import { Explainer, ExplanationUnavailableError, readExplainerState, type Explanation } from '../model/explanation/explainer.js';
import { Preprocessor } from '../model/preprocessor.js';
import type { FeatureValues, Spec } from '../contract/index.js';
import type { Prediction, Predictor } from './predictor.js';

/** Explains a request's rows, each for the class its answer predicted. */
export interface RowExplainer {
  explain(rows: readonly FeatureValues[], results: readonly Prediction[]): Explanation[];
}

/** Why the served model cannot be explained: the 400 explanation_unavailable's message. */
export interface ExplanationUnavailable {
  unavailable: string;
}

async function loadRowExplainer(predictor: Predictor, spec: Spec): Promise<RowExplainer> {
  const features = spec.features.features;
  const { onnx, preprocessor: preprocessorState, metadata } = await readArtifacts(predictor.modelDir, spec.config.version);
  if (!preprocessorState) {
    throw new ExplanationUnavailableError(
      'the model came without a preprocessor.json (a model trained elsewhere): the service can only explain the models `npm run train` makes',
    );
  }
  const preprocessor = Preprocessor.fromJSON(features, preprocessorState);
  const explainer = Explainer.create({
    onnx,
    state: await readExplainerState(predictor.modelDir),
    columns: preprocessor,
    features,
    classes: metadata.classes,
  });
  const classes = metadata.classes;
  return {
    explain(rows, results) {
      const classIndexes = classes.length ? results.map((result) => classes.indexOf(String(result.prediction))) : undefined;
      return explainer.explain(preprocessor.transform(rows), classIndexes);
    },
  };
}

export class Explanations {
  /** Per served model (a reloaded model is a new predictor): its explainer, or why there is none. */
  private readonly explainers = new WeakMap<Predictor, Promise<RowExplainer | ExplanationUnavailable>>();

  constructor(private readonly spec: Spec) {}

  /** The explainer of the model the predictor serves, or why it cannot be explained. */
  explainerFor(predictor: Predictor): Promise<RowExplainer | ExplanationUnavailable> {
    let explainer = this.explainers.get(predictor);
    if (!explainer) {
      explainer = loadRowExplainer(predictor, this.spec).catch((error: unknown) => {
        if (error instanceof ExplanationUnavailableError)
          return { unavailable: `Model ${basename(predictor.modelDir)} cannot be explained: ${error.message}` };
        this.explainers.delete(predictor); // a passing fault (a file being copied): the next request tries again
        throw error;
      });
      this.explainers.set(predictor, explainer);
    }
    return explainer;
  }
}

/** Each row's answer JSON with its explanation as the last key: {id, prediction, probabilities, explanation}. */
export function withExplanations(answers: readonly string[], explanations: readonly Explanation[]): string[] {
  return answers.map((answer, i) => `${answer.slice(0, -1)},"explanation":${JSON.stringify(explanations[i])}}`);
}
