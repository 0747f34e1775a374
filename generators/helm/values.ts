// The chart's values.yaml and Chart.yaml, computed from config.yaml in code (never by logic in a template), and
// the merge that lets `yo ml-microservice:helm` re-render values.yaml without clobbering what an operator added.
import { Document, isMap, isScalar, parseDocument, type Pair, type YAMLMap } from 'yaml';
import type { Config } from '../contract.js';
import type { DeploymentNames } from '../deploymentNames.js';

/** The pinned MongoDB image of `mongodb.enabled`. */
export const MONGODB_IMAGE = 'mongo:7.0.14';

/**
 * Values whose source is config.yaml: re-rendering sets them from config.yaml again. Every other value is only
 * added when missing, so an operator's edits (a nodeSelector, extra env, a different service type) are kept.
 */
export const CONFIG_DRIVEN_VALUES: readonly (readonly string[])[] = [
  ['replicaCount'],
  ['image', 'repository'],
  ['image', 'tag'],
  ['containerPort'],
  ['resources'],
  ['ingress', 'enabled'],
  ['ingress', 'className'],
  ['ingress', 'host'],
  ['ingress', 'tlsSecretName'],
  ['autoscaling'],
  ['podDisruptionBudget', 'minAvailable'],
  ['serviceMonitor', 'enabled'],
  ['prometheusRule', 'enabled'],
  ['grafanaDashboard', 'enabled'],
  ['alertmanagerConfig', 'enabled'],
  ['alertmanagerConfig', 'retrainWebhookUrl'],
  ['mongodb', 'enabled'],
];

/** What each top-level key is for, written above it in values.yaml. */
const COMMENTS: Record<string, string> = {
  replicaCount: ' Pods when autoscaling is off (config.yaml helm.replicas).',
  image: ' The production image built by docker/build-image.sh; the tag defaults to the API version.',
  containerPort: ' The port the service listens on in the container (config.yaml server.port).',
  serviceAccount: ' The pods get their own service account, without an API token.',
  podSecurityContext: ' Non-root (the image runs as uid 1000), with the runtime default seccomp profile.',
  securityContext: ' No privilege escalation, no capabilities, a read-only root file system.',
  terminationGracePeriodSeconds: ' On SIGTERM the service finishes in-flight requests and flushes the prediction log within this.',
  preStopSleepSeconds: ' Seconds a stopping pod keeps serving before SIGTERM, while it leaves the Service’s endpoints (0: none).',
  service: ' The ClusterIP Service in front of the pods.',
  ingress: ' An Ingress for ingress.host (config.yaml helm.ingress); MicroK8s’s ingress class is "public".',
  resources: ' Requests and limits of each pod (config.yaml helm.resources).',
  probes: ' Liveness checks GET /health (the process answers); readiness checks GET /ready (the model is loaded).',
  autoscaling: ' A HorizontalPodAutoscaler on CPU (config.yaml helm.autoscaling); needs the metrics server.',
  podDisruptionBudget: ' Pods that stay up during voluntary disruptions such as node drains (config.yaml helm.min_available).',
  rollout: [
    ' Progressive delivery with Argo Rollouts (needs its controller and CRDs): enabled renders a Rollout instead of the',
    ' Deployment, the same pods, updated as a canary through steps; with analysis.enabled an AnalysisTemplate checks',
    ' the canary’s error ratio, p99 latency and live accuracy in Prometheus (prometheusAddress, needs serviceMonitor)',
    ' against config.yaml’s monitoring thresholds every interval, and aborts (rolls back) past failureLimit failures.',
  ].join('\n'),
  serviceMonitor: ' A Prometheus Operator ServiceMonitor (config.yaml helm.service_monitor); needs its CRDs.',
  prometheusRule: ' The alerts of monitoring/prometheus-rules.yml as a PrometheusRule (config.yaml helm.prometheus_rule); needs its CRDs.',
  grafanaDashboard: [
    ' monitoring/grafana-dashboard.json in a ConfigMap that Grafana’s dashboard sidecar loads (config.yaml helm.grafana_dashboard);',
    ' namespace: where the sidecar looks, when it is not the release’s.',
  ].join('\n'),
  alertmanagerConfig: [
    ' Routes the alerts labelled retrain="true" (drift, live accuracy) to the retrain receiver (scripts/retrainOnAlert.ts),',
    ' which starts the Jenkins train-model job (config.yaml helm.retrain_webhook_url); needs the Prometheus Operator.',
  ].join('\n'),
  predictionLog: [
    ' Overrides of config.yaml prediction_log, as environment variables; empty means config.yaml decides.',
    ' sinks → PREDICTION_LOG_SINKS (e.g. "stdout,mongodb"), fluentd → FLUENTD_HOST/PORT/TAG,',
    ' mongodb → MONGODB_DB/COLLECTION. MONGODB_URL comes from the Secret (secret.mongodbUrl).',
  ].join('\n'),
  secret: [
    ' API_KEYS and MONGODB_URL. Leave them empty here: pass them at install time',
    ' (helm upgrade --install … --set-string secret.apiKeys="$API_KEYS"), or name a Secret you manage in existingSecret.',
    ' Without apiKeys the chart generates a key and keeps it across upgrades (NOTES.txt says how to read it).',
  ].join('\n'),
  mongodb: ' A single in-cluster MongoDB for the prediction log (config.yaml helm.mongodb); MONGODB_URL then points at it.',
  env: ' Extra environment variables of the service container.',
};

export function chartYaml(names: DeploymentNames): string {
  const chart = {
    apiVersion: 'v2',
    name: names.name,
    description: names.description,
    type: 'application',
    // The chart is versioned with the API it deploys.
    version: names.version,
    appVersion: names.version,
  };
  const doc = new Document(chart);
  doc.commentBefore = ' Rendered from config.yaml by `yo ml-microservice:helm`; the templates/ beside it are the chart’s own.';
  const appVersion = doc.get('appVersion', true);
  if (isScalar(appVersion)) appVersion.type = 'QUOTE_DOUBLE';
  return doc.toString({ lineWidth: 0 });
}

export function valuesObject(config: Config, names: DeploymentNames) {
  const { helm } = config;
  return {
    replicaCount: helm.replicas,
    image: { repository: names.imageRepository, tag: names.version, pullPolicy: 'IfNotPresent' },
    imagePullSecrets: [],
    nameOverride: '',
    fullnameOverride: '',
    containerPort: config.server.port,
    serviceAccount: { create: true, name: '', annotations: {} },
    podAnnotations: {},
    podLabels: {},
    podSecurityContext: {
      runAsNonRoot: true,
      runAsUser: 1000,
      runAsGroup: 1000,
      fsGroup: 1000,
      seccompProfile: { type: 'RuntimeDefault' },
    },
    securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } },
    terminationGracePeriodSeconds: 30,
    preStopSleepSeconds: 5,
    service: { type: 'ClusterIP', port: 80 },
    ingress: {
      enabled: helm.ingress.enabled,
      className: helm.ingress.class_name,
      host: helm.ingress.host ?? `${config.name}.local`,
      tlsSecretName: helm.ingress.tls_secret ?? '',
      annotations: {},
    },
    resources: {
      requests: { cpu: String(helm.resources.requests.cpu), memory: helm.resources.requests.memory },
      limits: { cpu: String(helm.resources.limits.cpu), memory: helm.resources.limits.memory },
    },
    probes: {
      liveness: { initialDelaySeconds: 5, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
      readiness: { periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 3 },
    },
    autoscaling: {
      enabled: helm.autoscaling.enabled,
      minReplicas: helm.autoscaling.min_replicas,
      maxReplicas: helm.autoscaling.max_replicas,
      targetCPUUtilizationPercentage: helm.autoscaling.target_cpu_percent,
    },
    podDisruptionBudget: { enabled: true, minAvailable: helm.min_available },
    rollout: {
      enabled: false,
      steps: [{ setWeight: 20 }, { pause: { duration: '5m' } }, { setWeight: 50 }, { pause: { duration: '5m' } }],
      progressDeadlineSeconds: 600,
      analysis: {
        enabled: true,
        // The Prometheus Operator's own Service in MicroK8s's observability add-on (kube-prometheus-stack).
        prometheusAddress: 'http://prometheus-operated.observability.svc:9090',
        interval: '1m',
        failureLimit: 1,
        rateWindow: '2m',
      },
    },
    serviceMonitor: { enabled: helm.service_monitor, path: '/metrics', interval: '30s', labels: {} },
    prometheusRule: { enabled: helm.prometheus_rule, labels: {} },
    grafanaDashboard: { enabled: helm.grafana_dashboard, namespace: '', labels: { grafana_dashboard: '1' } },
    alertmanagerConfig: {
      enabled: helm.retrain_webhook_url !== undefined,
      retrainWebhookUrl: helm.retrain_webhook_url ?? '',
      repeatInterval: '12h',
      labels: {},
    },
    predictionLog: { sinks: '', fluentd: { host: '', port: '', tag: '' }, mongodb: { db: '', collection: '' } },
    secret: { create: true, existingSecret: '', apiKeys: '', mongodbUrl: '' },
    mongodb: {
      enabled: helm.mongodb,
      image: MONGODB_IMAGE,
      storage: '1Gi',
      storageClassName: '',
      resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '1', memory: '1Gi' } },
    },
    env: [],
    nodeSelector: {},
    tolerations: [],
    affinity: {},
  };
}

const HEADER = [
  ' Values of the chart. Rendered from config.yaml by `yo ml-microservice:helm`, which re-renders the values that',
  ' come from config.yaml (image, replicas, resources, ingress, autoscaling, …) and keeps everything else you change',
  ' or add here. Secrets never go in this file.',
].join('\n');

function valuesDocument(values: object): Document {
  const doc = new Document(values);
  doc.commentBefore = HEADER;
  for (const pair of (doc.contents as YAMLMap).items as Pair[]) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    if (COMMENTS[key] && isScalar(pair.key)) pair.key.commentBefore = COMMENTS[key];
  }
  return doc;
}

const isConfigDriven = (path: readonly string[]) =>
  CONFIG_DRIVEN_VALUES.some((driven) => driven.length <= path.length && driven.every((key, index) => path[index] === key));

/** Leaf paths of a plain object (arrays and empty objects are leaves). */
function leaves(value: unknown, path: string[] = []): { path: string[]; value: unknown }[] {
  if (value && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length)
    return Object.entries(value).flatMap(([key, child]) => leaves(child, [...path, key]));
  return [{ path, value }];
}

/**
 * values.yaml for this run: the generated values when there is none yet; otherwise the existing file with the
 * config-driven values set from config.yaml and missing keys added — comments, order and other values kept.
 */
export function renderValues(values: object, existing?: string, label = 'helm/values.yaml'): string {
  const generated = valuesDocument(values);
  if (existing === undefined || !existing.trim()) return generated.toString({ lineWidth: 0 });
  const doc = parseDocument(existing);
  if (doc.errors.length)
    throw new Error(
      `${label} is not valid YAML (${doc.errors[0]!.message.split('\n')[0]}); fix it or delete it to have it rendered afresh`,
    );
  if (!isMap(doc.contents)) throw new Error(`${label} is not a mapping of values; fix it or delete it to have it rendered afresh`);
  for (const { path, value } of leaves(values)) {
    const present = doc.hasIn(path);
    if (present && !isConfigDriven(path)) continue;
    // A parent that is no mapping (say `ingress: null`) cannot take the key: the config decides then.
    let parent: unknown = doc;
    for (let depth = 1; depth < path.length && parent; depth++) {
      const node = doc.getIn(path.slice(0, depth), true);
      if (node !== undefined && !isMap(node)) {
        doc.setIn(path.slice(0, depth), doc.createNode({}));
        break;
      }
      parent = node;
    }
    if (!present && path.length === 1) {
      const node = doc.createPair(path[0], value);
      if (COMMENTS[path[0]!] && isScalar(node.key)) node.key.commentBefore = COMMENTS[path[0]!];
      (doc.contents as YAMLMap).items.push(node);
    } else doc.setIn(path, doc.createNode(value));
  }
  return doc.toString({ lineWidth: 0 });
}
