// yo ml-microservice:ci — renders what config.yaml's ci section asks for: GitHub Actions workflows doing what the
// two Jenkins pipelines do (ci.github_actions), and an Argo CD Application for the chart (ci.argocd).
import { Document } from 'yaml';
import type { Config } from '../contract.js';
import { CHART_PATH, type PartContext } from '../deploymentNames.js';
import { definePart } from '../part.js';

export const ARGOCD_APPLICATION = 'argocd/application.yaml';

export function argocdApplicationYaml(config: Config, names: PartContext): string {
  const { argocd } = config.ci;
  const doc = new Document({
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name: names.release, namespace: argocd.namespace, finalizers: ['resources-finalizer.argocd.argoproj.io'] },
    spec: {
      project: 'default',
      source: {
        repoURL: argocd.repo_url,
        targetRevision: argocd.revision,
        path: CHART_PATH,
        helm: {
          valueFiles: ['values.yaml'],
          // Git holds no secret: the Secret with API_KEYS and MONGODB_URL is created in the cluster, not by Argo CD.
          parameters: [{ name: 'secret.existingSecret', value: `${names.release}-secrets` }],
        },
      },
      destination: { server: 'https://kubernetes.default.svc', namespace: names.namespace },
      syncPolicy: { automated: { prune: true, selfHeal: true }, syncOptions: ['CreateNamespace=true'] },
    },
  });
  doc.commentBefore = [
    ` Argo CD keeps the chart in ${CHART_PATH}/ of ${argocd.repo_url} deployed (rendered from config.yaml ci.argocd).`,
    ` kubectl apply -f ${ARGOCD_APPLICATION}; create the Secret first:`,
    ` kubectl -n ${names.namespace} create secret generic ${names.release}-secrets --from-literal=API_KEYS=… [--from-literal=MONGODB_URL=…]`,
  ].join('\n');
  return doc.toString({ lineWidth: 0 });
}

export default definePart({
  name: 'ci',
  description: 'Renders the GitHub Actions workflows and the Argo CD Application chosen in config.yaml (ci.*).',
  // The workflows live in github-actions/ beside jenkins/ (the brief predates this part); GitHub reads .github/workflows/.
  templateFolder: 'github-actions',
  destinationFolder: '.github/workflows',
  doneMessage: 'CI files re-rendered from config.yaml',
  includes: (destination, { config }) => !destination.startsWith('.github/') || config.ci.github_actions,
  writeComputedFiles(generator, names) {
    const { config } = generator.spec;
    if (config.ci.argocd.enabled) generator.fs.write(generator.destinationPath(ARGOCD_APPLICATION), argocdApplicationYaml(config, names));
  },
});
