// The Jenkins part: both Jenkinsfiles parse with the real Groovy compiler (Debian's groovy) and are declarative
// pipelines (pipeline → agent, stages → stage → steps) with the stages the issue asks for; their sh steps call
// npm scripts that exist and run, and scripts of the project; the controller's Configuration as Code defines
// both jobs with a Job DSL script that parses too; start-jenkins.sh builds and runs the controller.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { parse } from 'yaml';
import { FULL_CONFIG, generatedProject, installedProject } from '../support/deployProject.js';
import { ROOT } from '../support/generate.js';
import { npmScriptsIn } from '../support/npmScripts.js';
import { run } from '../support/process.js';

interface Call {
  name: string;
  strings: string[];
}
interface Stage {
  call: string;
  name: string;
  sections: string[];
  sh: (string | null)[];
  steps: string[];
}
interface GroovyReport {
  file: string;
  errors: string[];
  calls: Call[];
  pipeline: { sections: string[]; stages: Stage[] } | null;
}

const JENKINSFILES = ['jenkins/train-model/Jenkinsfile', 'jenkins/build-image/Jenkinsfile'];

/** Runs the Groovy compiler once over all files (the JVM starts once). */
async function groovyReport(cwd: string, files: string[]): Promise<Map<string, GroovyReport>> {
  const { stdout } = await run('groovy', [join(ROOT, 'test/support/groovyStructure.groovy'), ...files], { cwd, timeout: 120_000 });
  return new Map((JSON.parse(stdout) as GroovyReport[]).map((report) => [report.file, report]));
}

describe('jenkins: the pipelines', function () {
  this.timeout(300_000);
  let project: string;
  let reports: Map<string, GroovyReport>;
  let dslFile: string;

  before(async () => {
    project = await generatedProject(FULL_CONFIG);
    // The Job DSL script of casc.yaml, with Configuration as Code's ${VAR:-default} resolved to the default.
    const casc = parse(readFileSync(join(project, 'jenkins/controller/casc.yaml'), 'utf8')) as { jobs: { script: string }[] };
    dslFile = join(project, 'jobs.groovy');
    writeFileSync(dslFile, casc.jobs.map((job) => job.script.replace(/\$\{\w+:-([^}]*)\}/g, '$1')).join('\n'));
    reports = await groovyReport(project, [...JENKINSFILES, 'jobs.groovy', join(ROOT, 'test/fixtures/broken.Jenkinsfile')]);
  });
  after(() => rmSync(dslFile, { force: true }));

  it('a file that is not Groovy is reported (so the checks below can fail)', () => {
    const broken = reports.get(join(ROOT, 'test/fixtures/broken.Jenkinsfile'))!;
    assert.match(broken.errors[0] ?? '', /expecting '}'/);
    assert.equal(broken.pipeline, null);
  });

  for (const [file, stages] of [
    [JENKINSFILES[0]!, ['Install', 'Test', 'Train', 'Archive']],
    [JENKINSFILES[1]!, ['Install', 'Lint', 'Audit', 'Test', 'Model', 'Build', 'Smoke test', 'Push', 'Deploy']],
  ] as const) {
    it(`${file} parses and is a declarative pipeline: ${stages.join(', ')}`, () => {
      const report = reports.get(file)!;
      assert.deepEqual(report.errors, []);
      assert.ok(report.pipeline, 'the file is one pipeline { } block');
      assert.ok(report.pipeline.sections.includes('agent'), 'agent');
      assert.ok(report.pipeline.sections.includes('stages'), 'stages');
      assert.deepEqual(
        report.pipeline.stages.map((stage) => stage.name),
        stages,
      );
      for (const stage of report.pipeline.stages) {
        assert.equal(stage.call, 'stage');
        assert.ok(stage.sections.includes('steps'), `${stage.name} has steps`);
      }
    });
  }

  it('train-model: npm ci, npm test, npm run train (the quality gate), archive model_bin/', () => {
    const { pipeline, calls } = reports.get(JENKINSFILES[0]!)!;
    assert.deepEqual(
      pipeline!.stages.flatMap((stage) => stage.sh),
      ['npm ci --no-audit --no-fund', 'npm test', 'npm run train'],
    );
    assert.deepEqual(
      calls.find((call) => call.name === 'archiveArtifacts'),
      { name: 'archiveArtifacts', strings: [] },
    );
    assert.match(readFileSync(join(project, JENKINSFILES[0]!), 'utf8'), /archiveArtifacts artifacts: 'model_bin\/\*\*'/);
  });

  it('build-image: lint and the Dockerfile checks, audit, build tagged with version and git sha, smoke test, push, deploy', () => {
    const { pipeline, calls } = reports.get(JENKINSFILES[1]!)!;
    const sh = (name: string) => pipeline!.stages.find((stage) => stage.name === name)!.sh;
    assert.deepEqual(sh('Lint'), ['npm run lint', 'npm run lint:docker']);
    assert.deepEqual(sh('Audit'), ['npm audit --omit=dev --audit-level=high']);
    assert.deepEqual(sh('Build'), [
      'git rev-parse --short=12 HEAD',
      'docker/build-image.sh "$REGISTRY" "$IMAGE" "$API_VERSION-$GIT_SHA" "$API_VERSION"',
    ]);
    assert.deepEqual(sh('Smoke test'), ['npm run smoke -- --image "$REGISTRY/$IMAGE:$API_VERSION-$GIT_SHA"']);
    // Build, smoke test and push all go through the project's scripts, which pick docker or buildah/podman.
    assert.ok(sh('Push').includes('docker/build-image.sh --push-only "$REGISTRY" "$IMAGE" "$API_VERSION-$GIT_SHA" "$API_VERSION"'));
    assert.deepEqual(sh('Deploy'), ['helm/deploy.sh "$API_VERSION-$GIT_SHA"']);
    assert.ok(pipeline!.stages.find((stage) => stage.name === 'Deploy')!.sections.includes('when'));
    // config.yaml's jenkins settings: registry login with the credentials id, deploy on by default, the kubeconfig id.
    const credentials = calls.filter((call) => ['usernamePassword', 'file'].includes(call.name)).map((call) => call.name);
    assert.deepEqual(credentials, ['usernamePassword', 'file']);
    const text = readFileSync(join(project, JENKINSFILES[1]!), 'utf8');
    assert.match(text, /credentialsId: 'registry-push'/);
    assert.match(text, /credentialsId: 'microk8s-kubeconfig'/);
    assert.match(text, /booleanParam\(name: 'DEPLOY', defaultValue: true/);
    assert.match(text, /REGISTRY = 'registry\.example\.com:5000\/ml'/);
  });

  it('without registry credentials there is no docker login; deploy is off by default', async () => {
    const defaults = await generatedProject();
    const text = readFileSync(join(defaults, JENKINSFILES[1]!), 'utf8');
    assert.doesNotMatch(text, /docker login|usernamePassword/);
    assert.match(text, /booleanParam\(name: 'DEPLOY', defaultValue: false/);
    assert.doesNotMatch(text, /<%|%>|^\s*$\n^\s*$/m, 'no template marker, no double blank line');
  });

  it('every command the pipelines run is an npm script of the project, npm itself, or a script of the project', async () => {
    const scripts = (JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    const commands = JENKINSFILES.flatMap((file) =>
      reports
        .get(file)!
        .calls.filter((call) => call.name === 'sh')
        .map((call) => call.strings[0] ?? ''),
    );
    for (const command of commands) {
      for (const script of npmScriptsIn(command))
        assert.ok(scripts[script], `npm run ${script} (in "${command}") is a script of package.json`);
      for (const path of command.match(/\b(docker|helm)\/[\w.-]+\.sh\b/g) ?? [])
        assert.doesNotThrow(() => readFileSync(join(project, path)), path);
      // Besides those: the git sha for the tag, and docker login/push/image rm of the image just built.
      assert.match(
        command,
        /^(npm |docker\/|helm\/|git rev-parse |docker (push|image rm) |echo "\$REGISTRY_PASSWORD" \| docker login )/,
        `"${command}"`,
      );
    }
  });

  it('the Job DSL of casc.yaml parses and defines train-model and build-image from their Jenkinsfiles', () => {
    const report = reports.get('jobs.groovy')!;
    assert.deepEqual(report.errors, []);
    for (const call of ['pipelineJob', 'cpsScm', 'git', 'url', 'branch', 'scriptPath'])
      assert.ok(
        report.calls.some((each) => each.name === call),
        call,
      );
    const dsl = readFileSync(dslFile, 'utf8');
    for (const [job, jenkinsfile] of [
      ['train-model', JENKINSFILES[0]],
      ['build-image', JENKINSFILES[1]],
    ])
      assert.match(dsl, new RegExp(`\\['${job}', '${jenkinsfile}'`), job);
    assert.ok(report.calls.some((call) => call.name === 'url' && call.strings[0] === 'file:///project'));
  });

  it('casc.yaml keeps no password: the admin password comes from the controller’s environment', () => {
    const casc = parse(readFileSync(join(project, 'jenkins/controller/casc.yaml'), 'utf8')) as {
      jenkins: { securityRealm: { local: { users: { password: string }[] } } };
    };
    assert.equal(casc.jenkins.securityRealm.local.users[0]!.password, '${JENKINS_ADMIN_PASSWORD}');
    const plugins = readFileSync(join(project, 'jenkins/controller/plugins.txt'), 'utf8').split('\n').filter(Boolean);
    for (const plugin of [
      'configuration-as-code',
      'job-dsl',
      'workflow-aggregator',
      'docker-workflow',
      'copyartifact',
      'credentials-binding',
      'timestamper',
      'ws-cleanup',
    ])
      assert.ok(plugins.includes(plugin), plugin);
  });
});

describe('jenkins: the npm scripts the pipelines call run', function () {
  this.timeout(600_000);
  let project: string;
  before(async () => (project = await installedProject()));

  for (const script of ['lint', 'lint:docker', 'train', 'test']) {
    it(`npm run ${script}`, async () => {
      const { stdout } = await run('npm', ['run', script], { cwd: project });
      if (script === 'lint:docker')
        assert.match(stdout, /Dockerfile: ok[^]*docker\/runtime\.Dockerfile: ok[^]*jenkins\/controller\/Dockerfile: ok/);
      if (script === 'test') assert.match(stdout, /\d+ passing/);
    });
  }
});

describe('jenkins: start-jenkins.sh', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'jenkins-start-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('builds the controller image and runs it with the project, the Docker socket and a generated password', async () => {
    const project = await generatedProject();
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    const log = join(dir, 'calls.txt');
    writeFileSync(join(bin, 'docker'), `#!/bin/sh\necho "docker $*" >> "${log}"\n`);
    // No Git repository or Docker socket here: stand-ins answer for them.
    writeFileSync(join(bin, 'git'), `#!/bin/sh\ncase "$*" in *abbrev-ref*) echo main ;; esac\n`);
    writeFileSync(join(bin, 'stat'), '#!/bin/sh\necho 998\n');
    for (const tool of ['docker', 'git', 'stat']) chmodSync(join(bin, tool), 0o755);
    writeFileSync(log, '');
    const { stdout } = await run('bash', ['jenkins/start-jenkins.sh'], {
      cwd: project,
      env: { PATH: `${bin}${delimiter}${process.env.PATH}`, JENKINS_ADMIN_PASSWORD: '' },
    });
    assert.match(stdout, /Jenkins is starting on http:\/\/127\.0\.0\.1:8080\/ \(user admin\)/);
    assert.match(stdout, /Admin password \(generated, not stored\): [0-9a-f]{36}/);
    const calls = readFileSync(log, 'utf8').trim().split('\n');
    assert.equal(calls[0], 'docker build --tag iris-classifier-jenkins:local jenkins/controller');
    const runCall = calls.find((call) => call.startsWith('docker run'))!;
    for (const part of [
      '--publish 127.0.0.1:8080:8080',
      `--volume ${project}:/project:ro`,
      '--volume /var/run/docker.sock:/var/run/docker.sock',
      '--group-add 998',
      '--env JENKINS_ADMIN_PASSWORD',
      '--env PROJECT_BRANCH=main',
    ])
      assert.ok(runCall.includes(part), `${part} in: ${runCall}`);
    assert.doesNotMatch(runCall, /JENKINS_ADMIN_PASSWORD=/, 'the password is passed from the environment, not the command line');
  });
});

describe('jenkins: the Deploy stage’s helm/deploy.sh follows an Argo Rollouts canary (rollout.enabled)', function () {
  this.timeout(60_000);
  let project: string;
  let dir: string;
  let bin: string;
  before(async () => (project = await generatedProject()));
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'deploy-rollout-'));
    bin = join(dir, 'bin');
    mkdirSync(bin);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /**
   * Runs helm/deploy.sh with stand-ins for the cluster's tools: helm upgrades nothing and prints `manifest` as the
   * release's; kubectl answers the Rollout's name, then one line of `states` per look ("generation observed phase message").
   */
  function deploy(manifest: string, states: string[] | 'no kubectl') {
    const log = join(dir, 'calls.txt');
    writeFileSync(log, '');
    writeFileSync(join(dir, 'manifest.yaml'), manifest);
    writeFileSync(
      join(bin, 'helm'),
      `#!/bin/sh\necho "helm $*" >> "${log}"\ncase "$1" in get) cat "${join(dir, 'manifest.yaml')}" ;; esac\n`,
    );
    let path = `${bin}${delimiter}${process.env.PATH}`;
    if (states === 'no kubectl') {
      // Only the tools the script needs: the machine's kubectl (and a stand-in from an earlier call) must not be found.
      rmSync(join(bin, 'kubectl'), { force: true });
      for (const tool of ['bash', 'grep', 'mktemp', 'chmod', 'rm', 'dirname', 'cat'])
        symlinkSync(spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim(), join(bin, tool));
      path = bin;
    } else {
      writeFileSync(join(dir, 'states.txt'), `${states.join('\n')}\n`);
      // Each look at the Rollout takes the next state; the last one stays.
      writeFileSync(
        join(bin, 'kubectl'),
        [
          '#!/bin/sh',
          `echo "kubectl $*" >> "${log}"`,
          'case "$*" in *items*) echo iris-classifier; exit 0 ;; esac',
          `states="${join(dir, 'states.txt')}"`,
          'head -n 1 "$states"',
          'if [ "$(wc -l < "$states")" -gt 1 ]; then sed -i 1d "$states"; fi',
        ].join('\n'),
      );
      chmodSync(join(bin, 'kubectl'), 0o755);
    }
    chmodSync(join(bin, 'helm'), 0o755);
    const result = spawnSync(join(project, 'helm/deploy.sh'), ['1.0.0-abc'], {
      encoding: 'utf8',
      env: { ...process.env, PATH: path, ROLLOUT_POLL_SECONDS: '0.1', ROLLOUT_TIMEOUT_SECONDS: '2' },
    });
    return { ...result, calls: readFileSync(log, 'utf8').trim().split('\n') };
  }

  const ROLLOUT = 'apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata:\n  name: iris-classifier\n';

  it('a Deployment: helm upgrade --install and nothing more', () => {
    const result = deploy('apiVersion: apps/v1\nkind: Deployment\n', ['2 2 Healthy']);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.calls[0]!, /^helm upgrade --install iris-classifier \. .*--wait .*--set-string image\.tag=1\.0\.0-abc/);
    assert.ok(!result.calls.some((call) => call.startsWith('kubectl')));
  });

  it('a canary: waits until the controller has seen the upgrade and the Rollout is Healthy', () => {
    const result = deploy(ROLLOUT, ['2 1 Healthy', '2 2 Progressing', '2 2 Paused CanaryPauseStep', '2 2 Healthy']);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /Rollout iris-classifier is healthy: the new version serves all traffic/);
    assert.equal(result.calls.filter((call) => call.includes('jsonpath={.metadata.generation}')).length, 4);
  });

  it('a canary its analysis aborted: the stage fails, saying it was rolled back', () => {
    const result = deploy(ROLLOUT, ['2 2 Progressing', '2 2 Degraded RolloutAborted: Metric "error-ratio" assessed Failed']);
    assert.equal(result.status, 1);
    assert.match(
      result.stderr,
      /Rollout iris-classifier was aborted and rolled back \(RolloutAborted: Metric "error-ratio" assessed Failed\)/,
    );
  });

  it('a canary that never finishes: fails after ROLLOUT_TIMEOUT_SECONDS; without kubectl it says how to follow it', () => {
    const stuck = deploy(ROLLOUT, ['2 2 Paused CanaryPauseStep']);
    assert.equal(stuck.status, 1);
    assert.match(stuck.stderr, /is still Paused after 2 s \(CanaryPauseStep\)/);
    const blind = deploy(ROLLOUT, 'no kubectl');
    assert.equal(blind.status, 0, blind.stderr);
    assert.match(blind.stderr, /follow it with: kubectl argo rollouts get rollout --namespace iris-classifier <name> --watch/);
  });
});
