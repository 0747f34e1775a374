// Generated projects for the deployment tests: generated once per config.yaml variant (through the package's
// own bin, as a user would), and one iris project installed and trained once for every test that runs its
// scripts. Mocha runs the test files in one process, so each is made once per run.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, parseDocument } from 'yaml';
import { generate, ROOT } from './generate.js';
import { run } from './process.js';

/** Ansible's !unsafe (the inventory's values): a plain string to YAML, so parsing it warns of nothing. */
export const ANSIBLE_YAML_TAGS = [{ tag: '!unsafe', resolve: (value: string) => value }];

export const IRIS = join(ROOT, 'templates', 'examples', 'iris');
export const IRIS_CONFIG = readFileSync(join(IRIS, 'config.yaml'), 'utf8');

/**
 * The iris config.yaml with whole top-level sections replaced or added by `sections` (YAML text), its comments and
 * the rest kept: the example already sets some deployment keys, so appending a second `helm:` would be a duplicate.
 */
export function irisConfigWith(sections: string, base: string = IRIS_CONFIG): string {
  const doc = parseDocument(base);
  for (const [key, value] of Object.entries(parse(sections) as Record<string, unknown>)) doc.set(key, value);
  return doc.toString({ lineWidth: 0 });
}

/** A config.yaml that turns on every optional part and changes every deployment default. */
export const FULL_CONFIG = irisConfigWith(`
docker:
  registry: registry.example.com:5000/ml
  image: iris
  base_image: node:20.20.2-bookworm-slim
helm:
  namespace: ml-serving
  replicas: 3
  resources:
    requests: { cpu: 250m, memory: 300Mi }
    limits: { cpu: 2, memory: 1Gi }
  ingress: { enabled: true, host: iris.example.com, class_name: nginx, tls_secret: iris-tls }
  autoscaling: { enabled: false }
  min_available: 2
  service_monitor: true
  prometheus_rule: true
  grafana_dashboard: true
  retrain_webhook_url: http://retrain-receiver.ml-serving:9095/alerts
  mongodb: true
jenkins:
  registry_credentials_id: registry-push
  deploy: true
  kubeconfig_credentials_id: microk8s-kubeconfig
ansible:
  user: deploy
  microk8s_channel: 1.31/stable
  hosts:
    - { name: node-1, address: 10.0.0.11 }
    - { name: node-2, address: 10.0.0.12, user: admin }
ci:
  github_actions: true
  argocd: { enabled: true, repo_url: https://git.example.com/ml/iris.git, revision: main }
`);

const cleanups: (() => void)[] = [];
after(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const generated = new Map<string, Promise<string>>();

/** A project generated from the iris features and `config` (the iris config by default); resolves to its folder. */
export function generatedProject(config: string = IRIS_CONFIG): Promise<string> {
  let project = generated.get(config);
  if (!project) {
    project = (async () => {
      const dir = tempDir('deploy-gen-');
      const configPath = join(dir, 'config.yaml');
      writeFileSync(configPath, config);
      const output = join(dir, 'project');
      await generate(output, ['--features', join(IRIS, 'features.yaml'), '--config', configPath]);
      return output;
    })();
    generated.set(config, project);
  }
  return project;
}

let installed: Promise<string> | undefined;

/**
 * The iris project as a developer has it after `npm install` (which writes package-lock.json, the Dockerfile's
 * npm ci needs it) and `npm run train` (model_bin/): its own copy, so tests may run its scripts.
 */
export function installedProject(): Promise<string> {
  installed ??= (async () => {
    const dir = tempDir('deploy-installed-');
    const project = join(dir, 'project');
    await generate(project, ['--example', 'iris']);
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: project, timeout: 600_000 });
    await run('npm', ['run', 'train'], { cwd: project });
    return project;
  })();
  return installed;
}
