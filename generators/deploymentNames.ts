// The names every deployment part agrees on (image, chart, release, namespace, paths), computed once from
// config.yaml so the Dockerfile, the chart, the pipelines, the playbooks and the CI files cannot drift apart.
import { type Spec, exampleRequest } from './contract.js';

export interface DeploymentNames {
  name: string;
  /** The API version: the image tag and the chart's appVersion. */
  version: string;
  description: string;
  port: number;
  registry: string;
  /** The image name without registry or tag. */
  image: string;
  /** registry/image, the repository the tags are pushed to. */
  imageRepository: string;
  baseImage: string;
  runtimeImage: string;
  /** Helm release name (= config.yaml name). */
  release: string;
  namespace: string;
  /** The chart folder, relative to the project. */
  chartPath: string;
  /** A valid POST /predict body (the id field plus each feature's example), as compact JSON. */
  exampleRequestJson: string;
}

export const CHART_PATH = 'helm';

export function deploymentNames({ features, config }: Spec): DeploymentNames {
  const image = config.docker.image ?? config.name;
  return {
    name: config.name,
    version: config.version,
    description: config.description,
    port: config.server.port,
    registry: config.docker.registry,
    image,
    imageRepository: `${config.docker.registry}/${image}`,
    baseImage: config.docker.base_image,
    runtimeImage: config.docker.runtime_image,
    release: config.name,
    namespace: config.helm.namespace ?? config.name,
    chartPath: CHART_PATH,
    exampleRequestJson: exampleRequestJson({ features, config }, 'smoke-test'),
  };
}

/**
 * The one example POST /predict body of the generated files (README, smoke test): the id field set to `id`, and
 * the same body as /docs shows (the contract's exampleRequest), as compact JSON.
 */
export function exampleRequestJson(spec: Spec, id: string): string {
  return JSON.stringify(exampleRequest(spec, id));
}

/** A POSIX shell word: single-quoted, with embedded single quotes closed, escaped and reopened. */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}

/** A Groovy string literal that interpolates nothing (single-quoted). */
export function groovyString(value: string): string {
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

/** What the parts' *.ejs templates are rendered with: the names, and quoting helpers for values they print. */
export interface PartContext extends DeploymentNames {
  /** Quotes a value as one POSIX shell word. */
  sh: (value: string) => string;
  /** Quotes a value as a Groovy string that interpolates nothing. */
  groovy: (value: string) => string;
}

export function partContext(spec: Spec): PartContext {
  return { ...deploymentNames(spec), sh: shellQuote, groovy: groovyString };
}
