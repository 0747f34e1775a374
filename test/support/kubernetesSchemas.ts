// Offline validation of rendered Kubernetes objects against the API schemas, with the npm packages
// kubernetes-models (the built-in kinds) and @kubernetes-models/prometheus-operator, /argo-cd and /argo-rollouts
// (ServiceMonitor, PrometheusRule, AlertmanagerConfig, Application, Rollout, AnalysisTemplate). kubectl cannot
// validate without a cluster; these check types, required fields, enums and formats.
// An object of a kind none of them knows is an error, never silently accepted.

interface Model {
  validate(): void;
}
type ModelClass = new (data: object) => Model;

/** apiVersion → the modules that may hold its models (Argo CD and Argo Rollouts share argoproj.io). */
function modulesFor(apiVersion: string): string[] {
  if (apiVersion.startsWith('monitoring.coreos.com/')) return [`@kubernetes-models/prometheus-operator/${apiVersion}`];
  if (apiVersion.startsWith('argoproj.io/'))
    return [`@kubernetes-models/argo-cd/${apiVersion}`, `@kubernetes-models/argo-rollouts/${apiVersion}`];
  return [`kubernetes-models/${apiVersion}`];
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
  let Model: ModelClass | undefined;
  let found = false;
  for (const name of modulesFor(apiVersion)) {
    const models = (await import(name).catch(() => undefined)) as Record<string, unknown> | undefined;
    if (!models) continue;
    found = true;
    if (typeof models[kind] === 'function') {
      Model = models[kind] as ModelClass;
      break;
    }
  }
  if (!found) throw new Error(`${label}: no schema for apiVersion ${apiVersion}`);
  if (!Model) throw new Error(`${label}: no schema for kind ${kind} in ${apiVersion}`);
  try {
    new Model(object).validate();
  } catch (error) {
    throw new Error(`${label}: ${(error as Error).message}`, { cause: error });
  }
}
