// The data every templates/service/**/*.ejs file is rendered with. Everything a template needs is computed
// here, in TypeScript, so templates only print values (quoted with JSON.stringify) and never decide things.
import { encoderColumns, rawFeatureEncoders } from '../../templates/service/src/model/preprocessing.js';
import { tabularRequest } from '../../templates/service/src/http/openInference/tensors.js';
import { type Spec, type Feature, type Task, exampleRow } from '../contract.js';
import { deploymentNames, exampleRequestJson } from '../deploymentNames.js';

export interface ServiceContext {
  /** config.yaml name: the npm package, image and chart name. */
  name: string;
  version: string;
  description: string;
  task: Task;
  /** The CSV column the model predicts. */
  target: string;
  /** config.yaml id_field: echoed and logged with each prediction. */
  idField: string;
  port: number;
  /** config.yaml docker.registry and the image name (docker.image, default: name), for the README's Deployment section. */
  registry: string;
  /** The Kubernetes namespace the chart and the playbooks deploy to (the release, and its Secret, is `name`). */
  namespace: string;
  image: string;
  /** The validated features, in features.yaml order (defaults such as required: true filled in). */
  features: Feature[];
  featureNames: string[];
  /** Version of generator-ml-microservice that rendered the project. */
  generatorVersion: string;
  /**
   * A valid POST /predict body (the id field plus each feature's example), as JSON. Single quotes are
   * written as \u0027 so the JSON can sit inside a single-quoted shell argument.
   */
  exampleRequestJson: string;
  /** The same row as an Open Inference Protocol (V2) request: one input per feature (quoted like exampleRequestJson). */
  exampleInferenceJson: string;
  /** That request asking for the row's explanation too (parameters.explain). */
  exampleExplainInferenceJson: string;
  /** When every feature is numeric: the row as a single [1, F] tensor, the other V2 convention; else undefined. */
  exampleMatrixInferenceJson: string | undefined;
  /** One row per feature for the README's Markdown table; every cell is ready to print (pipes escaped). */
  featureTable: FeatureTableRow[];
  /** The input columns a model trained elsewhere takes without a preprocessor.json, as Markdown: `age`, `plan=basic`, … */
  rawInputColumns: string;
  /** The smallest model.json for a model trained elsewhere, as indented JSON. */
  modelJsonExample: string;
}

export interface FeatureTableRow {
  name: string;
  type: string;
  required: 'yes' | 'no';
  /** e.g. "min 0, max 15", "one of `a`, `b`", "default `x`"; "—" when none. */
  constraints: string;
  description: string;
}

/** Text safe inside a Markdown table cell. */
function cell(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').replaceAll('|', '\\|');
}

function constraintsOf(feature: Feature): string {
  const parts: string[] = [];
  if (feature.min !== undefined) parts.push(`min ${feature.min}`);
  if (feature.max !== undefined) parts.push(`max ${feature.max}`);
  if (feature.observed) parts.push(`seen ${feature.observed.min} to ${feature.observed.max} in training (not a limit)`);
  if (feature.column !== undefined) parts.push(`CSV column \`${feature.column}\``);
  if (feature.values) parts.push(`one of ${feature.values.map((value) => `\`${value}\``).join(', ')}`);
  if (feature.default !== undefined) parts.push(`default \`${String(feature.default)}\``);
  return parts.length ? cell(parts.join(', ')) : '—';
}

/** model.json for a model trained elsewhere, one feature per line. */
function modelJsonExample({ features, config }: Spec): string {
  const lines = [`  "task": ${JSON.stringify(config.task)},`, `  "target": ${JSON.stringify(config.target)},`];
  if (config.task === 'classification') lines.push('  "classes": ["<class of probability column 0>", "<class of column 1>", "…"],');
  const featureLines = features.features.map(
    ({ name, type }) => `    { "name": ${JSON.stringify(name)}, "type": ${JSON.stringify(type)} }`,
  );
  lines.push('  "features": [', featureLines.join(',\n'), '  ]');
  return ['{', ...lines, '}'].join('\n');
}

/** The example row as V2 requests, JSON for a single-quoted shell argument (see exampleRequestJson). */
function exampleInference({
  features,
}: Spec): Pick<ServiceContext, 'exampleInferenceJson' | 'exampleExplainInferenceJson' | 'exampleMatrixInferenceJson'> {
  const quoted = (value: unknown) => JSON.stringify(value).replaceAll("'", '\\u0027');
  const row = exampleRow(features.features);
  const numeric = features.features.every((feature) => feature.type === 'number' || feature.type === 'integer');
  const matrix = {
    id: 'req-0002',
    inputs: [
      {
        name: 'input-0',
        shape: [1, features.features.length],
        datatype: 'FP64',
        data: [features.features.map((feature) => row[feature.name])],
      },
    ],
  };
  const tabular = tabularRequest(features.features, [row], 'req-0001');
  return {
    exampleInferenceJson: quoted(tabular),
    exampleExplainInferenceJson: quoted({ ...tabular, parameters: { explain: true } }),
    exampleMatrixInferenceJson: numeric ? quoted(matrix) : undefined,
  };
}

export function buildServiceContext(spec: Spec, generatorVersion: string): ServiceContext {
  const { features, config } = spec;
  // The names the deployment parts use too (image, namespace, …): computed once, in deploymentNames.
  const { name, version, description, port, registry, namespace, image } = deploymentNames(spec);
  return {
    name,
    version,
    description,
    task: config.task,
    target: config.target,
    idField: config.id_field,
    port,
    registry,
    namespace,
    image,
    features: features.features,
    featureNames: features.features.map((feature) => feature.name),
    generatorVersion,
    exampleRequestJson: exampleRequestJson(spec, 'req-0001').replaceAll("'", '\\u0027'),
    ...exampleInference(spec),
    rawInputColumns: rawFeatureEncoders(features.features)
      .encoders.flatMap(encoderColumns)
      .map((column) => `\`${column}\``)
      .join(', '),
    modelJsonExample: modelJsonExample(spec),
    featureTable: features.features.map((feature) => ({
      name: feature.name,
      type: feature.type,
      required: feature.required ? 'yes' : 'no',
      constraints: constraintsOf(feature),
      description: cell(feature.description ?? ''),
    })),
  };
}
