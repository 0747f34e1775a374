// Which ONNX input the service feeds and which output it reads, found from the session's own metadata
// (names, element types, shapes) and model.json, so models exported by this project, by scikit-learn's
// skl2onnx and by PyTorch's torch.onnx.export are all served the same way. Every problem is reported at
// start-up with what was found and what to change, never as a failing request later.
//
// What is accepted:
//   input   exactly one, a float32 or double tensor [N, F] (F = the encoded width; N dynamic, or fixed to 1
//           and then fed one row at a time)
//   output  classification: float/double [N, C] scores, C = the classes in model.json, holding
//           probabilities or (model.json onnx.scores: logits) logits; found as model.json onnx.output,
//           else "probabilities" (this project), else "output_probability" (skl2onnx with zipmap off),
//           else the only float tensor output (PyTorch). Label outputs are not read: the prediction is the
//           most probable class.
//           regression: float/double [N, 1] or [N]; found as onnx.output, else "prediction" (this
//           project), else "variable" (skl2onnx), else the only float tensor output (PyTorch).
import type { InferenceSession } from 'onnxruntime-node';
import type { ServedMetadata } from './artifacts.js';
import { ONNX_PREDICTION, ONNX_PROBABILITIES } from './modelTypes.js';

export type FloatType = 'float32' | 'float64';

export interface ModelSignature {
  input: { name: string; type: FloatType; /** 1 when the model takes one row per run. */ fixedBatch: 1 | undefined };
  output: { name: string; /** Classification: how to turn the output into probabilities. */ scores: 'probabilities' | 'logits' | 'values' };
}

type ValueMetadata = InferenceSession.ValueMetadata;

const SKL2ONNX_PROBABILITIES = 'output_probability';
const SKL2ONNX_REGRESSION = 'variable';

const describe = (value: ValueMetadata) =>
  value.isTensor ? `${value.name} (${value.type} [${value.shape.join(', ')}])` : `${value.name} (not a tensor)`;
const isFloat = (value: ValueMetadata): value is InferenceSession.TensorValueMetadata =>
  value.isTensor && (value.type === 'float32' || value.type === 'float64');
const isDynamic = (dim: number | string | undefined) => typeof dim === 'string' || (typeof dim === 'number' && dim < 0);

function chooseOutput(outputs: readonly ValueMetadata[], named: string | undefined, preferred: readonly string[]): ValueMetadata | string {
  const listing = outputs.map(describe).join(', ');
  if (named !== undefined)
    return outputs.find((o) => o.name === named) ?? `model.json onnx.output is "${named}", but the outputs are ${listing}`;
  for (const name of preferred) {
    const output = outputs.find((o) => o.name === name);
    if (output) return output;
  }
  const floats = outputs.filter(isFloat);
  if (floats.length === 1) return floats[0]!;
  return `cannot tell which output to read among ${listing}: name it in model.json as onnx.output`;
}

/** Resolves the model's input and output, or lists every way it does not fit; `width` is the encoded row width. */
export function resolveSignature(
  inputs: readonly ValueMetadata[],
  outputs: readonly ValueMetadata[],
  info: Pick<ServedMetadata, 'task' | 'classes' | 'onnx'>,
  width: number,
): { signature: ModelSignature | undefined; problems: string[] } {
  const problems: string[] = [];
  const requested = info.onnx?.input;
  let input: ValueMetadata | undefined;
  if (requested !== undefined) {
    input = inputs.find((i) => i.name === requested);
    if (!input) problems.push(`model.json onnx.input is "${requested}", but the inputs are ${inputs.map(describe).join(', ')}`);
  } else if (inputs.length === 1) input = inputs[0];
  if (inputs.length !== 1) {
    problems.push(
      `the model has ${inputs.length} inputs (${inputs.map(describe).join(', ')}); the service feeds exactly one [N, ${width}] tensor`,
    );
  }
  let fixedBatch: 1 | undefined;
  if (input) {
    if (!isFloat(input)) problems.push(`input ${describe(input)} must be a float32 or double tensor`);
    // An empty shape means the model does not declare one: nothing to check before the first run.
    else if (input.shape.length !== 2 && input.shape.length !== 0)
      problems.push(`input ${describe(input)} must have 2 dimensions [N, ${width}]`);
    else {
      const [rows, columns] = input.shape;
      if (typeof columns === 'number' && columns >= 0 && columns !== width) {
        problems.push(`input ${describe(input)} takes ${columns} columns, but the features encode to ${width}`);
      }
      if (rows === 1) fixedBatch = 1;
      else if (rows !== undefined && !isDynamic(rows))
        problems.push(`input ${describe(input)} has a fixed batch size of ${rows}: export it with a dynamic first axis`);
    }
  }

  const classification = info.task === 'classification';
  const chosen = chooseOutput(
    outputs,
    info.onnx?.output,
    classification ? [ONNX_PROBABILITIES, SKL2ONNX_PROBABILITIES] : [ONNX_PREDICTION, SKL2ONNX_REGRESSION],
  );
  let output: ValueMetadata | undefined;
  if (typeof chosen === 'string') problems.push(chosen);
  else if (!chosen.isTensor) {
    problems.push(
      `output ${chosen.name} is not a tensor (a ZipMap's list of maps, which onnxruntime-node cannot return): export scikit-learn classifiers with skl2onnx options={id(model): {"zipmap": False}}`,
    );
  } else if (!isFloat(chosen)) problems.push(`output ${describe(chosen)} must be a float32 or double tensor`);
  else {
    output = chosen;
    const [, columns, ...rest] = chosen.shape;
    if (chosen.shape.length === 0) {
      // Undeclared shape: the warm-up run checks the values per row.
    } else if (classification) {
      if (chosen.shape.length !== 2) problems.push(`output ${describe(chosen)} must be [N, ${info.classes.length}]: one score per class`);
      else if (typeof columns === 'number' && columns >= 0 && columns !== info.classes.length) {
        problems.push(`output ${describe(chosen)} has ${columns} columns, but model.json lists ${info.classes.length} classes`);
      }
    } else if (chosen.shape.length > 2 || rest.length || (typeof columns === 'number' && columns !== 1)) {
      problems.push(`output ${describe(chosen)} must be [N, 1] or [N]: one value per row`);
    }
  }
  if (problems.length || !input || !output || !isFloat(input)) return { signature: undefined, problems };
  return {
    signature: {
      input: { name: input.name, type: input.type as FloatType, fixedBatch },
      output: { name: output.name, scores: classification ? (info.onnx?.scores ?? 'probabilities') : 'values' },
    },
    problems,
  };
}

/** Softmax of one row of logits, computed from the largest so exp() cannot overflow. */
export function softmax(logits: ArrayLike<number>): number[] {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  const exps = Array.from(logits, (z) => Math.exp(z - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

/** Why a row of scores declared as probabilities is not a probability distribution, or undefined. */
export function probabilityProblem(row: readonly number[]): string | undefined {
  const sum = row.reduce((a, b) => a + b, 0);
  if (row.every((p) => p >= -1e-6 && p <= 1 + 1e-6) && Math.abs(sum - 1) <= 1e-3) return undefined;
  return `[${row.map((p) => p.toPrecision(4)).join(', ')}] (sum ${sum.toPrecision(4)}) is not a probability distribution`;
}
