// Offline validation of rendered Kubernetes objects against the API schemas, with the npm packages
// kubernetes-models (the built-in kinds) and @kubernetes-models/prometheus-operator and /argo-cd (ServiceMonitor,
// PrometheusRule, AlertmanagerConfig, Application). kubectl cannot validate without a cluster; these check types, required fields, enums and formats.
// An object of a kind none of them knows is an error, never silently accepted.

interface Model {
  validate(): void;
}
type ModelClass = new (data: object) => Model;

/** apiVersion → the module with its models. */
function moduleFor(apiVersion: string): string {
  if (apiVersion.startsWith('monitoring.coreos.com/')) return `@kubernetes-models/prometheus-operator/${apiVersion}`;
  if (apiVersion.startsWith('argoproj.io/')) return `@kubernetes-models/argo-cd/${apiVersion}`;
  return `kubernetes-models/${apiVersion}`;
}

export interface KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

/** Validates one object; throws with apiVersion, kind, name and the schema's complaints. */
export async function validateObject(object: KubernetesObject): Promise<void> {
  const { apiVersion, kind } = object;
  const label = `${apiVersion} ${kind} ${object.metadata?.name ?? '(no name)'}`;
  let models: Record<string, unknown>;
  try {
    models = (await import(moduleFor(apiVersion))) as Record<string, unknown>;
  } catch {
    throw new Error(`${label}: no schema for apiVersion ${apiVersion}`);
  }
  const Model = models[kind] as ModelClass | undefined;
  if (typeof Model !== 'function') throw new Error(`${label}: no schema for kind ${kind} in ${apiVersion}`);
  try {
    new Model(object).validate();
  } catch (error) {
    throw new Error(`${label}: ${(error as Error).message}`, { cause: error });
  }
}
