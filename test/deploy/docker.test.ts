// The container part: the Dockerfiles pass the practice checks (dockerfile-ast), the checks catch what they
// claim to, and the exact commands the production Dockerfile runs work on a clean copy of a trained project:
// npm ci, the build, npm ci --omit=dev, then the CMD serves, the HEALTHCHECK command passes, the smoke test
// passes and SIGTERM stops node cleanly. The build script and the local start script are run for real too.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { DOCKERFILES, lintDockerfile, type Problem } from '../../dockerfiles/lintDockerfiles.js';
import { FULL_CONFIG, generatedProject, installedProject } from '../support/deployProject.js';
import { runDockerfile, type DockerfileRun } from '../support/dockerfileRunner.js';
import { exited, freePort, run, waitForStatus } from '../support/process.js';

const rules = (problems: Problem[]) => problems.map((problem) => problem.rule).sort();

/**
 * Stand-ins for docker, buildah and podman on PATH that record their arguments, one call per line ("docker build
 * …"), and answer like the real ones would. With `daemon: false`, `docker info` fails as with no Docker engine.
 */
function fakeDocker(dir: string, { daemon = true } = {}): { env: NodeJS.ProcessEnv; calls: () => string[] } {
  const bin = join(dir, `fake-bin-${daemon}`);
  const log = join(dir, 'docker-calls.txt');
  mkdirSync(bin);
  for (const engine of ['docker', 'buildah', 'podman']) {
    // `exec` fails like a container that never gets ready.
    const info = engine === 'docker' && !daemon ? 'exit 1' : 'true';
    const script = `#!/bin/sh\necho "${engine} $*" >> "${log}"\ncase "$1" in\n  info) ${info} ;;\n  run) echo fake-container ;;\n  inspect) echo true ;;\n  exec) exit 1 ;;\nesac\n`;
    writeFileSync(join(bin, engine), script);
    chmodSync(join(bin, engine), 0o755);
  }
  writeFileSync(log, '');
  return {
    env: { PATH: `${bin}${delimiter}${process.env.PATH}` },
    calls: () => readFileSync(log, 'utf8').split('\n').filter(Boolean),
  };
}

describe('docker: the Dockerfiles follow the practices', function () {
  this.timeout(120_000);

  it('every generated Dockerfile passes, for the iris config and a non-default one', async () => {
    for (const project of [await generatedProject(), await generatedProject(FULL_CONFIG)]) {
      const dockerignore = readFileSync(join(project, '.dockerignore'), 'utf8');
      for (const { path, profile } of DOCKERFILES) {
        assert.ok(existsSync(join(project, path)), `${path} is generated`);
        const problems = lintDockerfile(readFileSync(join(project, path), 'utf8'), profile, profile === 'service' ? dockerignore : '');
        assert.deepEqual(problems, [], `${path}: ${JSON.stringify(problems)}`);
      }
    }
  });

  it('the production image: two stages, pinned base, non-root, health check, node as PID 1', async () => {
    const dockerfile = readFileSync(join(await generatedProject(), 'Dockerfile'), 'utf8');
    assert.match(dockerfile, /^ARG NODE_IMAGE=node:20\.20\.2-bookworm-slim$/m);
    assert.equal(dockerfile.match(/^FROM /gm)?.length, 2);
    assert.match(dockerfile, /^USER 1000:1000$/m);
    assert.match(dockerfile, /^HEALTHCHECK /m);
    assert.match(dockerfile, /^CMD \["node", "dist\/http\/server\.js"\]$/m);
    assert.match(dockerfile, /^COPY model_bin \.\/model_bin$/m);
    assert.match(dockerfile, /npm ci --omit=dev/);
    assert.match(
      readFileSync(join(await generatedProject(FULL_CONFIG), 'docker/runtime.Dockerfile'), 'utf8'),
      /^FROM node:20\.20\.2-bookworm AS runtime$/m,
    );
  });

  const BAD: [string, string, string][] = [
    ['an unpinned base', 'FROM node\nUSER node\nHEALTHCHECK NONE\n', 'pinned-base'],
    ['latest', 'FROM node:latest\nUSER node\nHEALTHCHECK NONE\n', 'pinned-base'],
    ['an ARG without default', 'ARG BASE\nFROM ${BASE}\nUSER node\nHEALTHCHECK NONE\n', 'pinned-base'],
    ['root', 'FROM node:20.1.0\nUSER root\nHEALTHCHECK NONE\n', 'non-root'],
    ['no USER', 'FROM node:20.1.0\nHEALTHCHECK NONE\n', 'non-root'],
    ['no HEALTHCHECK', 'FROM node:20.1.0\nUSER node\n', 'healthcheck'],
    ['npm start', 'FROM node:20.1.0\nUSER node\nHEALTHCHECK NONE\nCMD ["npm", "start"]\n', 'signals'],
    ['a shell-form CMD', 'FROM node:20.1.0\nUSER node\nHEALTHCHECK NONE\nCMD node server.js\n', 'exec-form'],
    ['ADD', 'FROM node:20.1.0\nADD . /app\nUSER node\nHEALTHCHECK NONE\n', 'copy-not-add'],
    ['npm install', 'FROM node:20.1.0\nRUN npm install\nUSER node\nHEALTHCHECK NONE\n', 'npm-ci'],
    [
      'apt-get leftovers',
      'FROM debian:12.5\nRUN apt-get update && apt-get install -y curl\nUSER 1000\nHEALTHCHECK NONE\n',
      'apt-get-lists',
    ],
    ['a relative WORKDIR', 'FROM node:20.1.0\nWORKDIR app\nUSER node\nHEALTHCHECK NONE\n', 'absolute-workdir'],
  ];
  for (const [label, text, rule] of BAD) {
    it(`catches ${label} (${rule})`, () =>
      assert.ok(rules(lintDockerfile(text, 'tool')).includes(rule), JSON.stringify(lintDockerfile(text, 'tool'))));
  }

  it('the service profile wants stages, production dependencies, the model and spec, and a port', async () => {
    const single = 'FROM node:20.1.0\nWORKDIR /app\nCOPY . .\nRUN npm ci\nUSER node\nHEALTHCHECK CMD ["true"]\nCMD ["node", "x.js"]\n';
    assert.deepEqual([...new Set(rules(lintDockerfile(single, 'service')))], ['contents', 'expose', 'multi-stage', 'production-deps']);
    const dockerfile = readFileSync(join(await generatedProject(), 'Dockerfile'), 'utf8');
    assert.deepEqual(rules(lintDockerfile(dockerfile, 'service', 'model_bin\n')), ['dockerignore'], 'model_bin excluded by .dockerignore');
  });
});

describe('docker: the production Dockerfile’s commands on a clean copy of a trained project', function () {
  this.timeout(900_000);
  let project: string;
  let work: string;
  let image: DockerfileRun;
  let server: ChildProcess;
  let port: number;
  let output = '';

  before(async () => {
    project = await installedProject();
    work = mkdtempSync(join(tmpdir(), 'docker-run-'));
    // The build context as docker would send it: the project, without what .dockerignore excludes is not needed
    // here, because the runner refuses to COPY an excluded path. node_modules is never copied by the Dockerfile.
    image = await runDockerfile(join(project, 'Dockerfile'), project, work, {
      // The npm cache stands in for the registry (the commands are the Dockerfile's own).
      env: { npm_config_prefer_offline: 'true', npm_config_update_notifier: 'false' },
    });
    port = await freePort();
    const [command, ...args] = image.cmd;
    server = spawn(command!, args, {
      cwd: image.workdir,
      env: { PATH: process.env.PATH, ...image.final.env, PORT: String(port), HOST: '127.0.0.1' },
    });
    server.stdout!.on('data', (chunk) => (output += chunk));
    server.stderr!.on('data', (chunk) => (output += chunk));
    await waitForStatus(`http://127.0.0.1:${port}/ready`, 200, 60_000);
  });
  after(() => {
    if (server && server.exitCode === null) server.kill('SIGKILL');
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('ran npm ci and the build, then npm ci --omit=dev in the runtime stage', () => {
    // The npm ci steps first pick up the optional CA bundle build secret (not mounted here: nothing to trust).
    const caSecret = 'if [ -f /run/secrets/ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca; fi; ';
    assert.deepEqual(
      image.ran.map(({ stage, command }) => `${stage}: ${command.replace(/\s+/g, ' ')}`),
      [
        `build: ${caSecret}npm ci --no-audit --no-fund`,
        'build: npm run build',
        `runtime: ${caSecret}npm ci --omit=dev --no-audit --no-fund`,
      ],
    );
  });

  it('the runtime stage holds production dependencies only, the compiled service, the spec and the model', () => {
    const root = image.workdir;
    assert.deepEqual(readdirSync(join(root, 'model_bin')), readdirSync(join(project, 'model_bin')), 'the trained model is copied in');
    // dist/http/dashboard/static: the dashboard's page, script and style sheet, copied by the build (npm run build).
    for (const path of [
      'dist/http/server.js',
      'dist/http/dashboard/static/index.html',
      'features.yaml',
      'config.yaml',
      'node_modules/onnxruntime-node',
      'node_modules/express',
    ])
      assert.ok(existsSync(join(root, path)), path);
    for (const path of ['src', 'test', 'node_modules/typescript', 'node_modules/mocha', 'node_modules/eslint', 'data'])
      assert.ok(!existsSync(join(root, path)), `${path} is not in the image`);
    assert.equal(image.final.env.NODE_ENV, 'production');
    assert.equal(image.user, '1000:1000');
    assert.deepEqual(image.expose, ['8000']);
  });

  it('the HEALTHCHECK command passes against the running CMD', async () => {
    const [command, ...args] = image.healthcheck!;
    await run(command!, args, { cwd: image.workdir, env: { PORT: String(port) } });
  });

  it('docker/smoke-test.sh --url passes: /ready, then /predict with the example row', async () => {
    const { stdout } = await run('bash', [join(project, 'docker/smoke-test.sh'), '--url', `http://127.0.0.1:${port}`], { cwd: project });
    assert.match(stdout, /\/predict: \{.*"prediction":"setosa"/);
    assert.match(stdout, /smoke test passed/);
  });

  it('docker/smoke-test.sh fails when the service does not answer', async () => {
    await assert.rejects(
      run('bash', [join(project, 'docker/smoke-test.sh'), '--url', `http://127.0.0.1:${await freePort()}`], {
        cwd: project,
        env: { SMOKE_ATTEMPTS: '2' },
      }),
      /did not answer 200 after 2 attempts/,
    );
  });

  it('SIGTERM reaches node (PID 1 in the image) and it exits 0 after finishing', async () => {
    server.kill('SIGTERM');
    assert.equal(await exited(server), 0);
    assert.match(output, /SIGTERM/);
  });
});

describe('docker: the scripts', function () {
  this.timeout(300_000);
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'docker-scripts-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('build-image.sh builds REPO/IMAGE:TAG for each tag, labels it, and pushes with --push', async () => {
    const project = await installedProject();
    const docker = fakeDocker(dir);
    const { stdout } = await run('bash', ['docker/build-image.sh', '--push', 'registry.local:5000', 'iris', '1.0.0-abc', '1.0.0'], {
      cwd: project,
      env: docker.env,
    });
    assert.equal(stdout.trim().split('\n').at(-1), 'registry.local:5000/iris:1.0.0-abc');
    const [info, build, ...pushes] = docker.calls();
    assert.equal(info, 'docker info', 'asks whether a Docker engine answers');
    assert.match(
      build!,
      /^docker build --file Dockerfile --tag registry\.local:5000\/iris:1\.0\.0-abc --tag registry\.local:5000\/iris:1\.0\.0 --label org\.opencontainers\.image\.version=1\.0\.0 --label org\.opencontainers\.image\.revision=\S+ \.$/,
    );
    assert.deepEqual(pushes, ['docker push registry.local:5000/iris:1.0.0-abc', 'docker push registry.local:5000/iris:1.0.0']);
  });

  it('build-image.sh without a Docker engine builds with buildah in the Docker format (HEALTHCHECK kept); options and overrides', async () => {
    const project = await installedProject();
    const engines = fakeDocker(dir, { daemon: false });
    const { stdout } = await run('bash', ['docker/build-image.sh', 'registry.local:5000', 'iris', '1.0.0'], {
      cwd: project,
      env: { ...engines.env, BUILD_OPTIONS: '--pull=never --secret id=ca,src=/etc/ssl/certs/ca-certificates.crt' },
    });
    assert.equal(stdout.trim().split('\n').at(-1), 'registry.local:5000/iris:1.0.0');
    const [info, build] = engines.calls();
    assert.equal(info, 'docker info');
    assert.match(
      build!,
      /^buildah build --format docker --file Dockerfile --tag registry\.local:5000\/iris:1\.0\.0 .* --pull=never --secret id=ca,src=\/etc\/ssl\/certs\/ca-certificates\.crt \.$/,
    );
    // CONTAINER_ENGINE wins over the automatic choice; --push-only pushes what was built, with that engine.
    await run('bash', ['docker/build-image.sh', '--push-only', 'registry.local:5000', 'iris', '1.0.0'], {
      cwd: project,
      env: { ...engines.env, CONTAINER_ENGINE: 'podman' },
    });
    assert.deepEqual(engines.calls().slice(2), ['podman push registry.local:5000/iris:1.0.0']);
    await assert.rejects(
      run('bash', ['docker/build-image.sh'], { cwd: project, env: { ...engines.env, CONTAINER_ENGINE: 'rkt' } }),
      /use docker, podman or buildah/,
    );
  });

  it('smoke-test.sh --image without a Docker engine runs the image with podman like the chart runs the pod', async () => {
    const project = await installedProject();
    const engines = fakeDocker(dir, { daemon: false });
    await assert.rejects(
      run('bash', ['docker/smoke-test.sh', '--image', 'localhost:32000/iris-classifier:1.0.0'], {
        cwd: project,
        env: { ...engines.env, SMOKE_ATTEMPTS: '1', RUN_OPTIONS: '--runtime runc' },
      }),
      /did not answer 200 after 1 attempts/,
    );
    const calls = engines.calls();
    assert.equal(calls[0], 'docker info');
    assert.equal(
      calls[1],
      'podman run --detach --read-only --tmpfs /tmp --tmpfs /app/logs --cap-drop ALL --security-opt no-new-privileges --runtime runc localhost:32000/iris-classifier:1.0.0',
    );
    assert.equal(calls.at(-1), 'podman rm --force fake-container');
  });

  it('build-image.sh defaults to config.yaml, builds the runtime image with --runtime, refuses without a model', async () => {
    const docker = fakeDocker(dir);
    const project = await installedProject();
    await run('bash', ['docker/build-image.sh'], { cwd: project, env: docker.env });
    await run('bash', ['docker/build-image.sh', '--runtime'], { cwd: project, env: docker.env });
    const [, service, , runtime] = docker.calls();
    assert.match(service!, /--tag localhost:32000\/iris-classifier:1\.0\.0 .* \.$/);
    assert.match(
      runtime!,
      /^docker build --file docker\/runtime\.Dockerfile --tag localhost:32000\/iris-classifier-runtime:1\.0\.0 .* docker$/,
    );
    const untrained = await generatedProject();
    writeFileSync(join(untrained, 'package-lock.json'), '{}');
    await assert.rejects(run('bash', ['docker/build-image.sh'], { cwd: untrained, env: docker.env }), /model_bin\/ holds no model/);
  });

  it('smoke-test.sh --image runs the image, probes inside it with node, and removes it', async () => {
    const project = await installedProject();
    const docker = fakeDocker(dir);
    await assert.rejects(
      run('bash', ['docker/smoke-test.sh', '--image', 'localhost:32000/iris-classifier:1.0.0'], {
        cwd: project,
        env: { ...docker.env, SMOKE_ATTEMPTS: '1' },
      }),
      /did not answer 200 after 1 attempts/,
    );
    const calls = docker.calls();
    assert.equal(calls[0], 'docker info');
    assert.equal(
      calls[1],
      'docker run --detach --read-only --tmpfs /tmp --tmpfs /app/logs --cap-drop ALL --security-opt no-new-privileges localhost:32000/iris-classifier:1.0.0',
    );
    assert.ok(
      calls.some((call) => call.startsWith('docker exec fake-container node --input-type=module -e')),
      calls.join('\n'),
    );
    assert.equal(calls.at(-1), 'docker rm --force fake-container');
  });

  it('start-local-service.sh builds and serves the project with this machine’s node; Ctrl-C stops it', async () => {
    const project = await installedProject();
    const port = await freePort();
    const child = spawn('bash', ['docker/start-local-service.sh'], {
      cwd: project,
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1' },
    });
    let output = '';
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.stderr!.on('data', (chunk) => (output += chunk));
    try {
      await waitForStatus(`http://127.0.0.1:${port}/ready`, 200, 120_000);
    } finally {
      child.kill('SIGINT');
    }
    assert.equal(await exited(child), 0, output);
  });
});
