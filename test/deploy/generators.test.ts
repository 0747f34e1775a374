// The deployment sub-generators on their own, inside a generated project: each re-renders its part after
// config.yaml changes (`yo ml-microservice:helm`, `ml-microservice helm`, …), helm merges values.yaml instead of
// replacing it, files the user changed are kept, and outside a project each says what to do.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { IRIS_CONFIG, read, repoRoot, runGenerator, generatedIris, type GeneratedIris } from '../generator/support.js';
import { irisConfigWith } from '../support/deployProject.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;

describe('deployment sub-generators', function () {
  this.timeout(120_000);
  let iris: GeneratedIris;
  beforeEach(async () => (iris = await generatedIris()));
  afterEach(() => iris.cleanup());

  const setConfig = (sections: string) => writeFileSync(join(iris.project, 'config.yaml'), irisConfigWith(sections, IRIS_CONFIG));

  it('helm re-renders the chart after config.yaml changed, merging values.yaml: config values set, operator values kept', async () => {
    const valuesPath = join(iris.project, 'helm/values.yaml');
    const edited = read(valuesPath)
      .replace('replicaCount: 2', 'replicaCount: 7 # mine')
      .replace('  type: ClusterIP', '  type: NodePort')
      .replace('nodeSelector: {}', 'nodeSelector:\n  disktype: ssd');
    writeFileSync(valuesPath, `${edited}# my own value\nmyTeam: ml\n`);
    setConfig(
      'docker:\n  registry: registry.example.com\nhelm:\n  replicas: 4\n  ingress:\n    enabled: true\n    host: iris.example.com\n',
    );
    await runGenerator(join(iris.project, 'helm'), { generator: 'helm', force: false });
    const text = read(valuesPath);
    const values = parse(text) as Loose;
    assert.equal(values.replicaCount, 4, 'from config.yaml');
    assert.equal(values.image.repository, 'registry.example.com/iris-classifier');
    assert.deepEqual([values.ingress.enabled, values.ingress.host], [true, 'iris.example.com']);
    assert.equal(values.service.type, 'NodePort', 'an operator value is kept');
    assert.deepEqual(values.nodeSelector, { disktype: 'ssd' });
    assert.equal(values.myTeam, 'ml');
    assert.match(text, /# my own value\nmyTeam: ml/, 'comments are kept');
    assert.match(text, /^# Values of the chart\./);
    assert.equal(
      read(join(iris.project, 'helm/files/config.yaml')),
      read(join(iris.project, 'config.yaml')),
      'the ConfigMap’s copy follows config.yaml',
    );
  });

  it('a values.yaml that is not YAML stops the run with what to do', async () => {
    writeFileSync(join(iris.project, 'helm/values.yaml'), 'replicaCount: [\n');
    await assert.rejects(
      runGenerator(iris.project, { generator: 'helm', force: false }),
      /helm\/values\.yaml is not valid YAML .*fix it or delete it/,
    );
  });

  it('docker, jenkins and ansible re-render from config.yaml; a file the user changed is kept', async () => {
    const jenkinsfile = join(iris.project, 'jenkins/build-image/Jenkinsfile');
    writeFileSync(
      join(iris.project, 'jenkins/train-model/Jenkinsfile'),
      `${read(join(iris.project, 'jenkins/train-model/Jenkinsfile'))}// mine\n`,
    );
    setConfig(
      'docker:\n  registry: registry.example.com\n  base_image: node:20.19.5-bookworm-slim\nansible:\n  user: deploy\njenkins:\n  deploy: true\n',
    );
    await runGenerator(iris.project, { generator: 'docker', force: false });
    await runGenerator(iris.project, { generator: 'jenkins', force: false });
    await runGenerator(iris.project, { generator: 'ansible', force: false });
    assert.match(read(join(iris.project, 'Dockerfile')), /^ARG NODE_IMAGE=node:20\.19\.5-bookworm-slim$/m);
    assert.match(read(join(iris.project, 'docker/build-image.sh')), /^repo=\$\{1:-registry\.example\.com\}$/m);
    assert.match(read(jenkinsfile), /REGISTRY = 'registry\.example\.com'/);
    assert.match(read(jenkinsfile), /defaultValue: true/);
    assert.match(read(join(iris.project, 'jenkins/train-model/Jenkinsfile')), /\/\/ mine\n$/, 'the user’s change is kept');
    assert.match(read(join(iris.project, 'ansible/inventory.yaml')), /microk8s_user: !unsafe deploy/);
  });

  it('ci writes the workflows and the Argo CD Application once config.yaml asks for them', async () => {
    assert.ok(!existsSync(join(iris.project, '.github')));
    setConfig('ci:\n  github_actions: true\n  argocd:\n    enabled: true\n    repo_url: https://git.example.com/iris.git\n');
    await runGenerator(iris.project, { generator: 'ci', force: false });
    for (const file of ['.github/workflows/train-model.yaml', '.github/workflows/build-image.yaml', 'argocd/application.yaml'])
      assert.ok(existsSync(join(iris.project, file)), file);
    assert.match(read(join(iris.project, 'argocd/application.yaml')), /repoURL: https:\/\/git\.example\.com\/iris\.git/);
  });

  it('an invalid deployment setting is reported with file, line and field, and nothing is written', async () => {
    setConfig('docker:\n  base_image: node:latest\n');
    const before = read(join(iris.project, 'Dockerfile'));
    await assert.rejects(
      runGenerator(iris.project, { generator: 'docker', force: false }),
      /config\.yaml:\d+:\d+ +docker\.base_image: pin the image/,
    );
    assert.equal(read(join(iris.project, 'Dockerfile')), before);
  });

  it('outside a project each says what to do', async () => {
    for (const generator of ['docker', 'helm', 'jenkins', 'ansible', 'ci'] as const)
      await assert.rejects(runGenerator(iris.dir, { generator }), /features\.yaml and config\.yaml not found: run this inside a project/);
  });

  it('the bin runs them by name: `ml-microservice helm` re-renders, `ml-microservice helm --help` shows the USAGE', () => {
    const bin = join(repoRoot, 'dist/bin/ml-microservice.js');
    setConfig('helm:\n  replicas: 5\n');
    const result = spawnSync(process.execPath, [bin, 'helm'], { cwd: iris.project, encoding: 'utf8', input: '' });
    assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
    assert.match(`${result.stdout}${result.stderr}`, /Helm chart re-rendered from config\.yaml/);
    assert.equal((parse(readFileSync(join(iris.project, 'helm/values.yaml'), 'utf8')) as Loose).replicaCount, 5);
    for (const name of ['docker', 'helm', 'jenkins', 'ansible', 'ci']) {
      const help = spawnSync(process.execPath, [bin, name, '--help'], { cwd: iris.dir, encoding: 'utf8' });
      assert.equal(help.status, 0);
      assert.match(help.stdout, new RegExp(`^Usage: ml-microservice ${name} \\[options\\][^]*Example:[^]*ml-microservice ${name}`));
    }
  });
});
