// A stand-in for a Kubernetes API server, just enough for `helm upgrade --install --dry-run` (helm 3 and 4):
// version and discovery for the kinds the chart renders, no releases, and the Secrets it is given (what the
// chart's `lookup` reads). It lets the tests render NOTES.txt and see lookup work without a cluster.
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

const RESOURCES: Record<string, [string, string][]> = {
  v1: [
    ['secrets', 'Secret'],
    ['configmaps', 'ConfigMap'],
    ['services', 'Service'],
    ['serviceaccounts', 'ServiceAccount'],
    ['pods', 'Pod'],
  ],
  'apps/v1': [['deployments', 'Deployment']],
  'autoscaling/v2': [['horizontalpodautoscalers', 'HorizontalPodAutoscaler']],
  'policy/v1': [['poddisruptionbudgets', 'PodDisruptionBudget']],
  'networking.k8s.io/v1': [['ingresses', 'Ingress']],
};

function resourceList(groupVersion: string): object {
  const resources = RESOURCES[groupVersion]!.map(([name, kind]) => ({
    name,
    singularName: '',
    namespaced: true,
    kind,
    verbs: ['get', 'list'],
  }));
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion, resources };
}

function answer(path: string, secrets: Map<string, object>): object | undefined {
  if (path === '/version') return { major: '1', minor: '31', gitVersion: 'v1.31.0' };
  if (path === '/api') return { kind: 'APIVersions', versions: ['v1'] };
  if (path === '/api/v1') return resourceList('v1');
  if (path === '/apis') {
    const groups = Object.keys(RESOURCES)
      .filter((groupVersion) => groupVersion.includes('/'))
      .map((groupVersion) => {
        const [name, version] = groupVersion.split('/');
        return { name, versions: [{ groupVersion, version }], preferredVersion: { groupVersion, version } };
      });
    return { kind: 'APIGroupList', apiVersion: 'v1', groups };
  }
  if (path.startsWith('/apis/') && RESOURCES[path.slice('/apis/'.length)]) return resourceList(path.slice('/apis/'.length));
  const secret = /^\/api\/v1\/namespaces\/([^/]+)\/secrets(?:\/([^/]+))?$/.exec(path);
  if (secret?.[2]) return secrets.get(`${secret[1]}/${secret[2]}`);
  // Helm's release storage (listed by label): no release is installed.
  if (secret) return { kind: 'SecretList', apiVersion: 'v1', metadata: {}, items: [] };
  return undefined;
}

export interface FakeKubernetesApi {
  /** A kubeconfig file pointing at this server (for KUBECONFIG). */
  kubeconfig: string;
  /** Makes a Secret exist, as the chart's own from an earlier install (owned by the release, as helm requires). */
  addSecret(namespace: string, name: string, release: string, data: Record<string, string>): void;
  close(): Promise<void>;
}

export async function startFakeKubernetesApi(folder: string): Promise<FakeKubernetesApi> {
  const secrets = new Map<string, object>();
  const server: Server = createServer((request, response) => {
    const body = answer(new URL(request.url ?? '/', 'http://localhost').pathname, secrets);
    response.writeHead(body ? 200 : 404, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body ?? { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const kubeconfig = join(folder, 'fake-kubeconfig.yaml');
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{ name: fake, cluster: { server: "http://127.0.0.1:${port}" } }]`,
      'contexts: [{ name: fake, context: { cluster: fake, user: fake } }]',
      'users: [{ name: fake, user: {} }]',
      'current-context: fake',
      '',
    ].join('\n'),
  );
  return {
    kubeconfig,
    addSecret(namespace, name, release, data) {
      secrets.set(`${namespace}/${name}`, {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: {
          name,
          namespace,
          labels: { 'app.kubernetes.io/managed-by': 'Helm' },
          annotations: { 'meta.helm.sh/release-name': release, 'meta.helm.sh/release-namespace': namespace },
        },
        data: Object.fromEntries(Object.entries(data).map(([key, value]) => [key, Buffer.from(value).toString('base64')])),
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
