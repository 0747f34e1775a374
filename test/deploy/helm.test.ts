// The Helm chart with the real helm, 3 and 4 (unpacked from npm packages, see ../support/helmBinaries.ts):
// `helm lint --strict` and `helm template` with the default values and with every option turned on, each
// rendered object validated offline against the Kubernetes schemas, and the objects checked for what they promise.
// NOTES.txt and the generated API key's lookup are rendered by `helm upgrade --install --dry-run` against a stand-in
// for the Kubernetes API (../support/fakeKubernetesApi.ts).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { FULL_CONFIG, generatedProject } from '../support/deployProject.js';
import { startFakeKubernetesApi, type FakeKubernetesApi } from '../support/fakeKubernetesApi.js';
import { helmBinary, type HelmMajor } from '../support/helmBinaries.js';
import { validateObject, type KubernetesObject } from '../support/kubernetesSchemas.js';
import { run } from '../support/process.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;

/** Values that turn on what is off by default, and give secrets, as an operator would at install time. */
const EVERYTHING_ON = `
ingress: { enabled: true, host: iris.example.com, tlsSecretName: iris-tls, annotations: { cert-manager.io/cluster-issuer: letsencrypt } }
serviceMonitor: { enabled: true, labels: { release: prometheus } }
prometheusRule: { enabled: true, labels: { release: prometheus } }
grafanaDashboard: { enabled: true, namespace: monitoring }
alertmanagerConfig: { enabled: true, retrainWebhookUrl: "http://retrain-receiver.ml:9095/alerts" }
mongodb: { enabled: true, storageClassName: microk8s-hostpath }
autoscaling: { enabled: false }
replicaCount: 3
secret: { apiKeys: "key-1,key-2" }
predictionLog: { sinks: "stdout,mongodb", fluentd: { host: fluentd.logging, port: "24224", tag: iris.prediction }, mongodb: { db: iris, collection: predictions } }
env: [{ name: EXTRA, value: "1" }]
nodeSelector: { kubernetes.io/os: linux }
`;

function parseObjects(text: string): KubernetesObject[] {
  return parseAllDocuments(text)
    .map((doc) => {
      assert.deepEqual(doc.errors, [], 'helm template printed invalid YAML');
      return doc.toJS() as KubernetesObject | null;
    })
    .filter((object): object is KubernetesObject => object !== null);
}

const byKind = (objects: KubernetesObject[], kind: string): Loose[] => objects.filter((object) => object.kind === kind);
const one = (objects: KubernetesObject[], kind: string): Loose => {
  const found = byKind(objects, kind);
  assert.equal(found.length, 1, `one ${kind}`);
  return found[0];
};

for (const major of [3, 4] as HelmMajor[]) {
  describe(`helm ${major}: the chart`, function () {
    this.timeout(120_000);
    let helm: string;
    let project: string;
    let chart: string;
    let valuesFile: string;
    let kubernetes: FakeKubernetesApi;

    before(async () => {
      helm = helmBinary(major);
      project = await generatedProject();
      chart = join(project, 'helm');
      valuesFile = join(project, 'everything-on.yaml');
      writeFileSync(valuesFile, EVERYTHING_ON);
      kubernetes = await startFakeKubernetesApi(mkdtempSync(join(project, 'kube-')));
    });

    after(() => kubernetes?.close());

    const template = async (...args: string[]) =>
      parseObjects((await run(helm, ['template', 'iris-classifier', chart, '--namespace', 'ml', ...args], { cwd: project })).stdout);

    /** `helm upgrade --install --dry-run` against the fake API server: the rendered objects and NOTES.txt. */
    const dryRun = async (mode: 'client' | 'server', namespace: string, ...args: string[]) => {
      const { stdout } = await run(
        helm,
        [
          'upgrade',
          '--install',
          'iris-classifier',
          chart,
          '--namespace',
          namespace,
          `--dry-run=${mode}`,
          '--disable-openapi-validation',
          ...args,
        ],
        { cwd: project, env: { KUBECONFIG: kubernetes.kubeconfig } },
      );
      const [, manifest = '', notes = ''] = /\nMANIFEST:\n([^]*?)\nNOTES:\n([^]*)$/.exec(stdout) ?? [];
      return { objects: parseObjects(manifest), notes };
    };
    const notes = async (...args: string[]) => (await dryRun('client', 'ml', ...args)).notes;

    it(`is helm ${major}`, async () => {
      const { stdout } = await run(helm, ['version', '--short'], { cwd: project });
      assert.match(stdout, new RegExp(`^v${major}\\.`));
    });

    it('quotes string values: a newline in ingress.className stays inside the value, injecting no key', async () => {
      const hostile = 'public\ndefaultBackend:\n  service: { name: evil, port: { number: 80 } }';
      const hostileValues = join(project, 'hostile.yaml');
      writeFileSync(hostileValues, stringify({ ingress: { enabled: true, className: hostile, tlsSecretName: 'tls\nx: 1' } }));
      const ingress = one(await template('--values', hostileValues), 'Ingress');
      assert.equal(ingress.spec.ingressClassName, hostile);
      assert.equal(ingress.spec.defaultBackend, undefined);
      assert.equal(ingress.spec.tls[0].secretName, 'tls\nx: 1');
    });

    it('passes helm lint --strict with the default values and with everything on', async () => {
      const { stdout } = await run(helm, ['lint', '--strict', chart], { cwd: project });
      assert.match(stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
      await run(helm, ['lint', '--strict', chart, '--values', valuesFile], { cwd: project });
    });

    it('renders valid Kubernetes objects with the default values', async () => {
      const objects = await template();
      for (const object of objects) await validateObject(object);
      assert.deepEqual(objects.map((object) => object.kind).sort(), [
        'ConfigMap',
        'Deployment',
        'HorizontalPodAutoscaler',
        'Pod', // the helm test hook
        'PodDisruptionBudget',
        'Secret',
        'Service',
        'ServiceAccount',
      ]);
    });

    it('the Deployment: probes on /health and /ready, resources, a locked-down security context, the spec mounted', async () => {
      const objects = await template();
      const deployment = one(objects, 'Deployment');
      const pod = deployment.spec.template.spec;
      const [container] = pod.containers;
      assert.equal(deployment.spec.replicas, undefined, 'the HPA owns the replica count');
      assert.equal(container.image, 'localhost:32000/iris-classifier:1.0.0');
      assert.deepEqual(container.livenessProbe.httpGet, { path: '/health', port: 'http' });
      assert.deepEqual(container.readinessProbe.httpGet, { path: '/ready', port: 'http' });
      assert.deepEqual(container.ports, [{ name: 'http', containerPort: 8000, protocol: 'TCP' }]);
      assert.deepEqual(container.resources, { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } });
      assert.equal(pod.securityContext.runAsNonRoot, true);
      assert.equal(pod.securityContext.runAsUser, 1000);
      assert.equal(container.securityContext.readOnlyRootFilesystem, true);
      assert.equal(container.securityContext.allowPrivilegeEscalation, false);
      assert.deepEqual(container.securityContext.capabilities.drop, ['ALL']);
      assert.equal(pod.automountServiceAccountToken, false);
      assert.deepEqual(container.lifecycle.preStop.exec.command, ['sleep', '5']);
      assert.ok(pod.terminationGracePeriodSeconds > 5 + 10, 'the grace period covers the preStop sleep and the shutdown');
      const env = Object.fromEntries(container.env.map((entry: Loose) => [entry.name, entry.value ?? entry.valueFrom]));
      assert.equal(env.CONFIG_PATH, '/etc/ml-service/config.yaml');
      assert.equal(env.FEATURES_PATH, '/etc/ml-service/features.yaml');
      assert.equal(env.PORT, '8000');
      // The chart's Secret always holds a key: a pod never starts without one (open).
      assert.deepEqual(env.API_KEYS, { secretKeyRef: { name: 'iris-classifier', key: 'API_KEYS', optional: false } });
      assert.deepEqual(env.MONGODB_URL, { secretKeyRef: { name: 'iris-classifier', key: 'MONGODB_URL', optional: true } });
      assert.equal(env.PREDICTION_LOG_SINKS, undefined, 'config.yaml decides unless values say otherwise');
      assert.deepEqual(
        container.volumeMounts.map((mount: Loose) => mount.mountPath),
        ['/etc/ml-service', '/tmp', '/app/logs'],
      );
      assert.match(deployment.spec.template.metadata.annotations['checksum/config'], /^[0-9a-f]{64}$/);
    });

    it('the ConfigMap holds the project’s features.yaml and config.yaml byte for byte; the Secret holds a generated API key by default', async () => {
      const objects = await template();
      const configMap = one(objects, 'ConfigMap');
      assert.equal(configMap.data['features.yaml'], readFileSync(join(project, 'features.yaml'), 'utf8'));
      assert.equal(configMap.data['config.yaml'], readFileSync(join(project, 'config.yaml'), 'utf8'));
      // No secret.apiKeys: a generated key (helm template has no cluster for lookup, so a fresh one each render).
      const generated = Buffer.from(one(objects, 'Secret').data.API_KEYS, 'base64').toString();
      assert.match(generated, /^[A-Za-z0-9]{40}$/);
      assert.notEqual(Buffer.from(one(await template(), 'Secret').data.API_KEYS, 'base64').toString(), generated);
      const hpa = one(objects, 'HorizontalPodAutoscaler');
      assert.deepEqual([hpa.spec.minReplicas, hpa.spec.maxReplicas], [2, 5]);
      assert.equal(one(objects, 'PodDisruptionBudget').spec.minAvailable, 1);
      const service = one(objects, 'Service');
      assert.deepEqual(service.spec.selector, one(objects, 'Deployment').spec.selector.matchLabels);
    });

    it('renders valid objects with everything on: Ingress, ServiceMonitor, MongoDB, secrets, log settings', async () => {
      const objects = await template('--values', valuesFile);
      for (const object of objects) await validateObject(object);
      assert.equal(byKind(objects, 'HorizontalPodAutoscaler').length, 0);
      const deployment = one(objects, 'Deployment');
      assert.equal(deployment.spec.replicas, 3);
      const [container] = deployment.spec.template.spec.containers;
      const env = Object.fromEntries(container.env.map((entry: Loose) => [entry.name, entry.value ?? entry.valueFrom]));
      assert.deepEqual(
        [env.PREDICTION_LOG_SINKS, env.FLUENTD_HOST, env.FLUENTD_PORT, env.FLUENTD_TAG, env.MONGODB_DB, env.MONGODB_COLLECTION, env.EXTRA],
        ['stdout,mongodb', 'fluentd.logging', '24224', 'iris.prediction', 'iris', 'predictions', '1'],
      );
      const secret = one(objects, 'Secret');
      assert.equal(Buffer.from(secret.data.API_KEYS, 'base64').toString(), 'key-1,key-2');
      assert.equal(Buffer.from(secret.data.MONGODB_URL, 'base64').toString(), 'mongodb://iris-classifier-mongodb:27017');
      const ingress = one(objects, 'Ingress');
      assert.equal(ingress.spec.rules[0].host, 'iris.example.com');
      assert.deepEqual(ingress.spec.tls, [{ hosts: ['iris.example.com'], secretName: 'iris-tls' }]);
      assert.equal(ingress.spec.ingressClassName, 'public');
      assert.equal(one(objects, 'ServiceMonitor').spec.endpoints[0].path, '/metrics');
      const mongo = one(objects, 'StatefulSet');
      assert.equal(mongo.spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem, true);
      assert.equal(mongo.spec.volumeClaimTemplates[0].spec.storageClassName, 'microk8s-hostpath');
      // The MongoDB pods must not be selected by the API's Service, Deployment or PDB.
      const apiSelector = one(objects, 'Deployment').spec.selector.matchLabels;
      const mongoLabels = mongo.spec.template.metadata.labels;
      assert.ok(Object.entries(apiSelector).some(([key, value]) => mongoLabels[key] !== value));
    });

    it('with monitoring on: the project’s alerts as a PrometheusRule that promtool accepts, its dashboard, the retrain route', async () => {
      const objects = await template('--values', valuesFile);
      const rules = one(objects, 'PrometheusRule');
      assert.deepEqual(rules.spec, parse(readFileSync(join(project, 'monitoring/prometheus-rules.yml'), 'utf8')));
      assert.equal(rules.metadata.labels.release, 'prometheus');
      // The rendered rules, not just the source file, are what Prometheus loads.
      const renderedRules = join(project, 'rendered-rules.yml');
      writeFileSync(renderedRules, stringify(rules.spec));
      assert.match((await run('promtool', ['check', 'rules', renderedRules], { cwd: project })).stdout, /SUCCESS: \d+ rules found/);

      const dashboard = byKind(objects, 'ConfigMap').find((map) => map.metadata.labels.grafana_dashboard === '1');
      assert.equal(dashboard.metadata.namespace, 'monitoring');
      assert.deepEqual(Object.keys(dashboard.data), ['iris-classifier.json']);
      assert.deepEqual(
        JSON.parse(dashboard.data['iris-classifier.json']),
        JSON.parse(readFileSync(join(project, 'monitoring/grafana-dashboard.json'), 'utf8')),
      );

      const retrain = one(objects, 'AlertmanagerConfig');
      assert.deepEqual(retrain.spec.route.matchers, [{ name: 'retrain', value: 'true', matchType: '=' }]);
      assert.equal(retrain.spec.receivers[0].webhookConfigs[0].url, 'http://retrain-receiver.ml:9095/alerts');
      await assert.rejects(
        template('--set', 'alertmanagerConfig.enabled=true'),
        /alertmanagerConfig.retrainWebhookUrl must be set/,
        'enabled without an address is refused at render time',
      );
    });

    it('rollout.enabled: an Argo Rollouts Rollout runs the Deployment’s pods as a canary, with an AnalysisTemplate', async () => {
      const deployment = one(await template('--values', valuesFile), 'Deployment');
      const objects = await template('--values', valuesFile, '--set', 'rollout.enabled=true');
      for (const object of objects) await validateObject(object);
      assert.equal(byKind(objects, 'Deployment').length, 0, 'the Rollout replaces the Deployment');
      const rollout = one(objects, 'Rollout');
      assert.deepEqual(rollout.spec.template, deployment.spec.template, 'the same pod template');
      assert.deepEqual(rollout.spec.selector, deployment.spec.selector);
      assert.equal(rollout.spec.replicas, 3);
      assert.equal(rollout.spec.progressDeadlineAbort, true);
      const values = parse(readFileSync(join(chart, 'values.yaml'), 'utf8'));
      assert.deepEqual(rollout.spec.strategy.canary.steps, values.rollout.steps);
      assert.ok(values.rollout.steps.some((step: Loose) => step.setWeight !== undefined));
      const analysis = one(objects, 'AnalysisTemplate');
      assert.deepEqual(rollout.spec.strategy.canary.analysis, {
        templates: [{ templateName: analysis.metadata.name }],
        startingStep: 1,
        args: [{ name: 'canary-hash', valueFrom: { podTemplateHashValue: 'Latest' } }],
      });
      assert.deepEqual(one(objects, 'ServiceMonitor').spec.podTargetLabels, ['rollouts-pod-template-hash']);
      // Every metric the analysis reads is one the service exports.
      const exported = readFileSync(join(project, 'src/monitoring/metrics.ts'), 'utf8');
      for (const metric of analysis.spec.metrics) {
        assert.equal(metric.provider.prometheus.address, values.rollout.analysis.prometheusAddress);
        for (const [name] of metric.provider.prometheus.query.matchAll(/\b(?:ml|http)_[a-z0-9_]+(?=\{)/g))
          assert.ok(exported.includes(`'${name.replace(/_bucket$/, '')}'`), `${metric.name}: ${name} is exported by the service`);
      }

      const scaled = await template('--values', valuesFile, '--set', 'rollout.enabled=true', '--set', 'autoscaling.enabled=true');
      assert.deepEqual(one(scaled, 'HorizontalPodAutoscaler').spec.scaleTargetRef, {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Rollout',
        name: rollout.metadata.name,
      });
      assert.equal(one(scaled, 'Rollout').spec.replicas, undefined, 'the autoscaler sets the replicas');
      const unanalysed = await template('--values', valuesFile, '--set', 'rollout.enabled=true', '--set', 'rollout.analysis.enabled=false');
      assert.equal(byKind(unanalysed, 'AnalysisTemplate').length, 0);
      assert.equal(one(unanalysed, 'Rollout').spec.strategy.canary.analysis, undefined);
      await assert.rejects(
        template('--set', 'rollout.enabled=true', '--set', 'serviceMonitor.enabled=false'),
        /rollout\.analysis needs serviceMonitor\.enabled/,
        'an analysis without the metrics it reads is refused at render time',
      );
      await run(helm, ['lint', '--strict', chart, '--values', valuesFile, '--set', 'rollout.enabled=true'], { cwd: project });
    });

    it('the analysis queries (promtool): 1 for a healthy canary or one without data yet, 0 for a failing one', async () => {
      const analysis = one(await template('--values', valuesFile, '--set', 'rollout.enabled=true'), 'AnalysisTemplate');
      const queries: Record<string, string> = Object.fromEntries(
        analysis.spec.metrics.map((metric: Loose) => [metric.name, metric.provider.prometheus.query]),
      );
      assert.deepEqual(Object.keys(queries), ['error-ratio', 'p99-latency', 'live-metric']);
      for (const metric of analysis.spec.metrics) assert.equal(metric.successCondition, 'result[0] == 1');
      // The thresholds as any pod of the release exports them (config.yaml monitoring), and three canaries: a healthy
      // one, one failing every check (half its answers 5xx, slow, inaccurate), one whose regression error is too high.
      const release = 'namespace="ml", service="iris-classifier", pod="iris-classifier-stable"';
      const canary = (hash: string, labels: string) => `{namespace="ml", rollouts_pod_template_hash="${hash}", ${labels}}`;
      const series = (name: string, values: string) => ({ series: name, values });
      const buckets = (hash: string, fast: string, slow: string) => [
        series(`http_request_duration_seconds_bucket${canary(hash, 'route="/predict", le="0.1"')}`, fast),
        series(`http_request_duration_seconds_bucket${canary(hash, 'route="/predict", le="1"')}`, fast),
        series(`http_request_duration_seconds_bucket${canary(hash, 'route="/predict", le="+Inf"')}`, slow),
      ];
      const inputSeries = [
        series(`ml_http_error_ratio_threshold{${release}}`, '0.05x10'),
        series(`ml_http_latency_p99_threshold_seconds{${release}}`, '0.5x10'),
        series(`ml_live_metric_min{${release}, metric="accuracy"}`, '0.9x10'),
        series(`ml_live_metric_max{${release}, metric="rmse"}`, '1x10'),
        series(`http_requests_total${canary('good', 'route="/predict", status="200"')}`, '0+60x10'),
        ...buckets('good', '0+60x10', '0+60x10'),
        series(`ml_live_metric${canary('good', 'metric="accuracy"')}`, '0.95x10'),
        series(`http_requests_total${canary('bad', 'route="/predict", status="200"')}`, '0+30x10'),
        series(`http_requests_total${canary('bad', 'route="/predict", status="500"')}`, '0+30x10'),
        ...buckets('bad', '0x10', '0+60x10'),
        series(`ml_live_metric${canary('bad', 'metric="accuracy"')}`, '0.5x10'),
        series(`ml_live_metric${canary('worse', 'metric="rmse"')}`, '2x10'),
      ];
      const expected: Record<string, Record<string, number>> = {
        good: { 'error-ratio': 1, 'p99-latency': 1, 'live-metric': 1 },
        bad: { 'error-ratio': 0, 'p99-latency': 0, 'live-metric': 0 },
        worse: { 'live-metric': 0 },
        'no-data-yet': { 'error-ratio': 1, 'p99-latency': 1, 'live-metric': 1 },
      };
      const tests = Object.entries(expected).flatMap(([hash, results]) =>
        Object.entries(results).map(([name, value]) => ({
          expr: queries[name]!.replaceAll('{{args.canary-hash}}', hash),
          eval_time: '5m',
          exp_samples: [{ labels: '{}', value }],
        })),
      );
      const rules = join(project, 'analysis-rules.yml');
      writeFileSync(rules, stringify({ groups: [] }));
      const testFile = join(project, 'analysis.test.yml');
      writeFileSync(
        testFile,
        stringify({
          rule_files: [rules],
          evaluation_interval: '1m',
          tests: [{ interval: '1m', input_series: inputSeries, promql_expr_test: tests }],
        }),
      );
      assert.match((await run('promtool', ['test', 'rules', testFile], { cwd: project })).stdout, /SUCCESS/);
    });

    it('an existing Secret replaces the chart’s own', async () => {
      const objects = await template('--set', 'secret.existingSecret=iris-secrets');
      assert.equal(byKind(objects, 'Secret').length, 0);
      const [container] = one(objects, 'Deployment').spec.template.spec.containers;
      const apiKeys = container.env.find((entry: Loose) => entry.name === 'API_KEYS').valueFrom.secretKeyRef;
      assert.deepEqual(apiKeys, { name: 'iris-secrets', key: 'API_KEYS', optional: false }, 'your Secret must hold API_KEYS');
      assert.match(
        await notes('--set', 'secret.existingSecret=iris-secrets'),
        /API_KEYS entry of your Secret iris-secrets; the pods do not start without it/,
      );
    });

    it('without any Secret (secret.create false, no existingSecret) the key is optional and NOTES.txt warns the API is open', async () => {
      const objects = await template('--set', 'secret.create=false');
      assert.equal(byKind(objects, 'Secret').length, 0);
      const [container] = one(objects, 'Deployment').spec.template.spec.containers;
      assert.equal(container.env.find((entry: Loose) => entry.name === 'API_KEYS').valueFrom.secretKeyRef.optional, true);
      assert.match(await notes('--set', 'secret.create=false'), /WARNING: secret\.create is false[^]*the API is open/);
    });

    it('NOTES.txt says how to read the generated key, or that the given keys are used', async () => {
      assert.match(
        await notes(),
        /generated one, kept across upgrades\. Read it with:\n\s+kubectl --namespace ml get secret iris-classifier -o jsonpath='\{\.data\.API_KEYS\}' \| base64 -d/,
      );
      assert.match(await notes('--set-string', 'secret.apiKeys=k1'), /They are the ones you gave \(secret\.apiKeys\)/);
    });

    it('an upgrade keeps the key generated at install (lookup reads the Secret in the cluster); given keys replace it', async () => {
      const apiKeys = async (...args: string[]) =>
        Buffer.from(one((await dryRun('server', 'upgraded', ...args)).objects, 'Secret').data.API_KEYS, 'base64').toString();
      const fresh = await apiKeys();
      assert.match(fresh, /^[A-Za-z0-9]{40}$/);
      kubernetes.addSecret('upgraded', 'iris-classifier', 'iris-classifier', { API_KEYS: fresh });
      assert.equal(await apiKeys(), fresh);
      assert.equal(await apiKeys(), fresh);
      assert.equal(await apiKeys('--set-string', 'secret.apiKeys=new-key'), 'new-key');
    });

    it('the schema validation rejects a broken object (so the checks above can fail)', async () => {
      const objects = await template('--set', 'containerPort=http');
      const deployment = one(objects, 'Deployment');
      await assert.rejects(validateObject(deployment), /containerPort must be integer/);
      await assert.rejects(validateObject({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } }), /no schema/);
    });
  });
}

/** The objects without what the generated API key makes differ per render: the key and the Secret's checksum. */
function withoutGeneratedKey(objects: KubernetesObject[]): KubernetesObject[] {
  for (const object of objects as Loose[]) {
    if (object.kind === 'Secret') delete object.data.API_KEYS;
    if (object.kind === 'Deployment') delete object.spec.template.metadata.annotations['checksum/secret'];
  }
  return objects;
}

describe('helm 3 and helm 4 render the same chart the same way', function () {
  this.timeout(120_000);

  it('for the iris config and for a config with every deployment option set', async () => {
    for (const config of [undefined, FULL_CONFIG]) {
      const project = await generatedProject(config);
      const [three, four] = await Promise.all(
        ([3, 4] as HelmMajor[]).map(async (major) => (await run(helmBinary(major), ['template', 'x', 'helm'], { cwd: project })).stdout),
      );
      assert.deepEqual(withoutGeneratedKey(parseObjects(four!)), withoutGeneratedKey(parseObjects(three!)));
      for (const object of parseObjects(four!)) await validateObject(object);
    }
  });

  it('a non-default config.yaml reaches the values: registry, replicas, resources, ingress, PDB, ServiceMonitor, alerts, dashboard, retrain route, MongoDB', async () => {
    const project = await generatedProject(FULL_CONFIG);
    const objects = parseObjects((await run(helmBinary(4), ['template', 'iris-classifier', 'helm'], { cwd: project })).stdout);
    const deployment = one(objects, 'Deployment');
    const [container] = deployment.spec.template.spec.containers;
    assert.equal(container.image, 'registry.example.com:5000/ml/iris:1.0.0');
    assert.equal(deployment.spec.replicas, 3);
    assert.deepEqual(container.resources, { requests: { cpu: '250m', memory: '300Mi' }, limits: { cpu: '2', memory: '1Gi' } });
    assert.equal(one(objects, 'Ingress').spec.ingressClassName, 'nginx');
    assert.equal(one(objects, 'PodDisruptionBudget').spec.minAvailable, 2);
    assert.equal(byKind(objects, 'ServiceMonitor').length, 1);
    assert.equal(byKind(objects, 'PrometheusRule').length, 1);
    assert.equal(byKind(objects, 'ConfigMap').filter((map) => map.metadata.labels.grafana_dashboard === '1').length, 1);
    assert.equal(
      one(objects, 'AlertmanagerConfig').spec.receivers[0].webhookConfigs[0].url,
      'http://retrain-receiver.ml-serving:9095/alerts',
    );
    assert.equal(byKind(objects, 'StatefulSet').length, 1);
    assert.equal(byKind(objects, 'HorizontalPodAutoscaler').length, 0);
  });
});
