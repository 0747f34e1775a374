// The CI part chosen in config.yaml: GitHub Actions workflows validated by action-validator (the workflow
// schema) that run the same npm scripts and project scripts as the Jenkins pipelines, and an Argo CD Application
// validated against its schema (@kubernetes-models/argo-cd). With the defaults, neither is generated.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { FULL_CONFIG, generatedProject } from '../support/deployProject.js';
import { ROOT } from '../support/generate.js';
import { validateObject, type KubernetesObject } from '../support/kubernetesSchemas.js';
import { npmScriptsIn } from '../support/npmScripts.js';
import { run } from '../support/process.js';

const WORKFLOWS = ['.github/workflows/train-model.yaml', '.github/workflows/build-image.yaml'];
const actionValidator = join(ROOT, 'node_modules/.bin/action-validator');

interface Workflow {
  jobs: Record<string, { steps: { run?: string; uses?: string; name?: string }[] }>;
}

describe('ci: GitHub Actions and Argo CD, as chosen in config.yaml', function () {
  this.timeout(120_000);

  it('the defaults generate neither', async () => {
    const project = await generatedProject();
    for (const file of [...WORKFLOWS, 'argocd/application.yaml']) assert.ok(!existsSync(join(project, file)), file);
  });

  it('the workflows pass action-validator', async () => {
    const project = await generatedProject(FULL_CONFIG);
    for (const workflow of WORKFLOWS) await run(actionValidator, [workflow], { cwd: project });
    const bad = join(project, '.github/workflows/bad.yaml');
    writeFileSync(bad, 'name: bad\non: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    step:\n      - run: npm test\n');
    try {
      await assert.rejects(run(actionValidator, [bad], { cwd: project }), /Additional property 'step' is not allowed|required/);
    } finally {
      rmSync(bad);
    }
  });

  it('the workflows do what the Jenkins pipelines do, with the project’s npm scripts and scripts', async () => {
    const project = await generatedProject(FULL_CONFIG);
    const scripts = (JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    const commands = (file: string) =>
      Object.values((parse(readFileSync(join(project, file), 'utf8')) as Workflow).jobs).flatMap((job) =>
        job.steps.flatMap((step) => (step.run ?? '').split('\n').filter(Boolean)),
      );
    const train = commands(WORKFLOWS[0]!);
    assert.deepEqual(train, ['npm ci --no-audit --no-fund', 'npm test', 'npm run train']);
    const build = commands(WORKFLOWS[1]!);
    for (const expected of [
      'npm run lint',
      'npm run lint:docker',
      'npm audit --omit=dev --audit-level=high',
      'npm test',
      'docker/ensure-model.sh',
      'helm/deploy.sh "$TAG"',
    ])
      assert.ok(build.includes(expected), expected);
    assert.ok(
      build.some((command) =>
        command.startsWith('docker/build-image.sh "$REGISTRY" "$IMAGE" "$API_VERSION-${GITHUB_SHA::12}" "$API_VERSION"'),
      ),
    );
    assert.ok(build.includes('npm run smoke -- --image "$REGISTRY/$IMAGE:$TAG"'));
    assert.ok(build.includes('docker/build-image.sh --push-only "$REGISTRY" "$IMAGE" "$TAG" "$API_VERSION"'), build.join('\n'));
    for (const command of [...train, ...build]) for (const script of npmScriptsIn(command)) assert.ok(scripts[script], `npm run ${script}`);
    const env = (parse(readFileSync(join(project, WORKFLOWS[1]!), 'utf8')) as { env: Record<string, string> }).env;
    assert.deepEqual(env, {
      ONNXRUNTIME_NODE_INSTALL: 'skip',
      REGISTRY: 'registry.example.com:5000/ml',
      IMAGE: 'iris',
      API_VERSION: '1.0.0',
    });
  });

  it('the Argo CD Application is valid and points at the chart in the repository', async () => {
    const project = await generatedProject(FULL_CONFIG);
    const application = parse(readFileSync(join(project, 'argocd/application.yaml'), 'utf8')) as KubernetesObject & {
      spec: { source: { repoURL: string; path: string; targetRevision: string }; destination: { namespace: string } };
    };
    await validateObject(application);
    assert.deepEqual(application.spec.source.repoURL, 'https://git.example.com/ml/iris.git');
    assert.equal(application.spec.source.path, 'helm');
    assert.equal(application.spec.source.targetRevision, 'main');
    assert.equal(application.spec.destination.namespace, 'ml-serving');
    assert.ok(existsSync(join(project, application.spec.source.path, 'Chart.yaml')));
    await assert.rejects(
      validateObject({ ...application, spec: { ...application.spec, destination: 'nowhere' } } as KubernetesObject),
      /destination/,
    );
  });
});
