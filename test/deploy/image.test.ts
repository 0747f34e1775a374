// The production image built and run for real, without a Docker engine (issue 19): buildah builds the generated
// project's Dockerfile through the project's own docker/build-image.sh, podman runs it the way the rendered Helm
// chart runs the pod (read-only root file system with the chart's emptyDir mounts as tmpfs, all capabilities
// dropped, no privilege escalation, the image's own non-root user), and the checks are the pod's: /ready, a valid
// /predict, the image's HEALTHCHECK command inside the container, no dev dependency and no build tool in the
// final image, and SIGTERM ending node (PID 1) with exit code 0. The image size is reported.
//
// The base image is a LOCAL STAND-IN (test/support/base-image-stand-in.sh): no registry of images is reachable
// here, so the exact name the Dockerfile's FROM uses (node:<version>-<debian>-slim) is built once per machine
// from `debootstrap --variant=minbase` of that Debian release, this machine's Node.js (and the npm bundled with
// it) and a node user 1000:1000, and the build never pulls (--pull=never). It differs from the official image in
// npm's exact version, the missing yarn/corepack, and a few packages of debian:<release>-slim; the Dockerfile only
// relies on node, npm, a glibc Debian and uid 1000, which both have, so the real image is expected to behave the same.
//
// Machine notes: buildah and podman share containers-storage with the machine's driver (overlay here; vfs also works
// but copies every layer, several times slower); podman runs with runc (Debian's crun refuses this machine's
// cgroup set-up) and explicit --ulimit values (its defaults exceed this container's hard limits); there is no
// systemd for podman's health-check timer, so the timer is off and the HEALTHCHECK is run on demand. The npm ci steps
// reach the registry; the host's CA bundle goes in as a build secret, as the Dockerfile documents.
//
// Cost: the first build on a machine takes about 4 minutes (two npm ci against the registry); the Dockerfile's npm
// cache mount makes later builds quicker. The stand-in takes about a minute, once per machine.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { ROOT } from '../support/generate.js';
import { helmBinary } from '../support/helmBinaries.js';
import { installedProject } from '../support/deployProject.js';
import { freePort, run, waitForStatus } from '../support/process.js';

const TOOLS = ['buildah', 'podman', 'runc', 'debootstrap'];
const REPO = 'localhost/generator-ml-microservice-test';
const IMAGE = 'iris-image-test';

/** podman options this machine needs (see the header), given to the project's scripts as RUN_OPTIONS. */
function machineRunOptions(): string[] {
  const hardNofile = execFileSync('bash', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).trim();
  const nofile = hardNofile === 'unlimited' ? '1048576' : hardNofile;
  return ['--runtime', 'runc', '--ulimit', `nofile=${nofile}:${nofile}`, '--ulimit', 'nproc=4096:4096', '--health-interval', 'disable'];
}

interface Container {
  securityContext?: {
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    capabilities?: { drop?: string[] };
    runAsUser?: number;
  };
  volumeMounts?: { name: string; mountPath: string }[];
}
interface Deployment {
  kind: string;
  spec: {
    template: {
      spec: {
        securityContext?: { runAsUser?: number; runAsNonRoot?: boolean };
        containers: Container[];
        volumes?: { name: string; emptyDir?: object }[];
      };
    };
  };
}

/** podman run options for the way the rendered chart runs the api container. */
function chartRunOptions(deployment: Deployment): string[] {
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0]!;
  const security = container.securityContext ?? {};
  assert.equal(security.readOnlyRootFilesystem, true, 'the chart runs the root file system read-only');
  assert.equal(security.allowPrivilegeEscalation, false);
  assert.deepEqual(security.capabilities?.drop, ['ALL']);
  assert.equal(pod.securityContext?.runAsNonRoot, true);
  const emptyDirs = new Set((pod.volumes ?? []).filter((volume) => volume.emptyDir).map((volume) => volume.name));
  const tmpfs = (container.volumeMounts ?? []).filter((mount) => emptyDirs.has(mount.name)).map((mount) => mount.mountPath);
  assert.ok(tmpfs.includes('/tmp'), `the chart's emptyDir mounts: ${tmpfs.join(', ')}`);
  // The user is the image's own (USER 1000:1000), which is what the chart's runAsUser says too.
  return ['--read-only', ...tmpfs.flatMap((path) => ['--tmpfs', path]), '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges'];
}

const podman = (args: string[], timeout = 120_000) => run('podman', args, { cwd: ROOT, timeout });

describe('image: the production Dockerfile built with buildah and run with podman like the chart runs the pod', function () {
  this.timeout(900_000);
  let project: string;
  let reference: string;
  let runOptions: string[];
  let deployment: Deployment;
  const containers: string[] = [];

  before(async function () {
    const missing = TOOLS.filter((tool) => {
      try {
        execFileSync('bash', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
        return false;
      } catch {
        return true;
      }
    });
    assert.deepEqual(missing, [], `install ${missing.join(' ')} (Debian packages; .ci/run does, with uidmap)`);
    project = await installedProject();
    const baseImage = /^ARG NODE_IMAGE=(\S+)$/m.exec(readFileSync(join(project, 'Dockerfile'), 'utf8'))?.[1];
    assert.ok(baseImage, 'the Dockerfile names its base image in ARG NODE_IMAGE');
    await run('bash', [join(ROOT, 'test/support/base-image-stand-in.sh'), baseImage], { cwd: ROOT, timeout: 600_000 });

    const tag = `t${process.pid}`;
    const caBundle = [process.env.NODE_EXTRA_CA_CERTS, '/etc/ssl/certs/ca-certificates.crt'].find((path) => path && existsSync(path));
    const buildOptions = ['--pull=never', ...(caBundle ? [`--secret id=ca,src=${caBundle}`] : [])].join(' ');
    const { stdout } = await run('bash', ['docker/build-image.sh', REPO, IMAGE, tag], {
      cwd: project,
      env: { CONTAINER_ENGINE: 'buildah', BUILD_OPTIONS: buildOptions },
      timeout: 900_000,
    });
    reference = stdout.trim().split('\n').at(-1)!;
    assert.equal(reference, `${REPO}/${IMAGE}:${tag}`);

    const rendered = (await run(helmBinary(4), ['template', 'iris-classifier', 'helm'], { cwd: project })).stdout;
    deployment = parseAllDocuments(rendered)
      .map((doc) => doc.toJS() as Deployment | null)
      .find((object) => object?.kind === 'Deployment')!;
    runOptions = [...chartRunOptions(deployment), ...machineRunOptions()];
  });

  after(async () => {
    for (const container of containers) await podman(['rm', '--force', container]).catch(() => undefined);
    if (reference) await podman(['rmi', '--force', reference]).catch(() => undefined);
  });

  it('is written in the Docker format with the HEALTHCHECK, runs as 1000:1000, and its size is reported', async () => {
    // podman shows the Docker-format image's health check at the top level, next to Config.
    const [image] = JSON.parse((await podman(['image', 'inspect', reference])).stdout) as {
      Size: number;
      Healthcheck?: { Test?: string[] };
      Config: { User?: string; Env?: string[] };
    }[];
    assert.equal(image!.Config.User, '1000:1000');
    assert.deepEqual(image!.Healthcheck?.Test?.slice(0, 3), ['CMD', 'node', '-e'], 'buildah kept the HEALTHCHECK (--format docker)');
    assert.ok(image!.Config.Env?.includes('ONNXRUNTIME_NODE_INSTALL=skip'));
    console.log(`      image size: ${(image!.Size / 1e6).toFixed(0)} MB (${reference}, on the base image stand-in)`);
  });

  it('docker/smoke-test.sh --image passes with podman: /ready, then /predict with the example row', async () => {
    const { stdout } = await run('bash', ['docker/smoke-test.sh', '--image', reference], {
      cwd: project,
      env: { RUN_OPTIONS: machineRunOptions().join(' ') },
    });
    assert.match(stdout, /smoke test passed/);
  });

  it('runs read-only as the chart does: /ready, a valid /predict, the HEALTHCHECK inside, SIGTERM exits 0', async () => {
    const port = await freePort();
    const name = `image-test-${process.pid}`;
    containers.push(name);
    await podman(['run', '--detach', '--name', name, '--publish', `127.0.0.1:${port}:8000`, ...runOptions, reference]);
    const base = `http://127.0.0.1:${port}`;
    await waitForStatus(`${base}/ready`, 200, 60_000);
    try {
      const { features } = parse(readFileSync(join(project, 'features.yaml'), 'utf8')) as {
        features: { name: string; example: unknown }[];
      };
      const example = Object.fromEntries(features.map((feature) => [feature.name, feature.example]));
      const answer = await fetch(`${base}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...example, request_id: 'r-1' }),
      });
      const body = (await answer.json()) as { prediction?: string; probabilities?: Record<string, number>; request_id?: string };
      assert.equal(answer.status, 200, JSON.stringify(body));
      assert.ok(['setosa', 'versicolor', 'virginica'].includes(body.prediction!), JSON.stringify(body));
      assert.equal(body.request_id, 'r-1');

      // The image's own HEALTHCHECK command, run inside the container by podman.
      await podman(['healthcheck', 'run', name]);
      // The pod's view: the image's non-root user, node as PID 1, nothing writable but the chart's mounts.
      assert.equal((await podman(['exec', name, 'id', '-u'])).stdout.trim(), '1000');
      assert.match((await podman(['exec', name, 'cat', '/proc/1/cmdline'])).stdout, /^node\0dist\/http\/server\.js/);
      await assert.rejects(podman(['exec', name, 'touch', '/app/written']), /Read-only file system/);
      await podman(['exec', name, 'touch', '/tmp/written', '/app/logs/written']);
      assert.match((await podman(['exec', name, 'grep', '^CapEff', '/proc/1/status'])).stdout, /CapEff:\s+0+$/m);
      assert.match((await podman(['exec', name, 'grep', '^NoNewPrivs', '/proc/1/status'])).stdout, /NoNewPrivs:\s+1$/m);
    } catch (error) {
      // What the service printed says why a check failed (a container that stopped, say).
      const logs = await podman(['logs', name]).then(({ stdout, stderr }) => stdout + stderr, String);
      throw new Error(`${(error as Error).message}\n--- the container's log:\n${logs}`, { cause: error });
    }
    await podman(['stop', '--time', '20', name]);
    const state = JSON.parse((await podman(['inspect', name, '--format', '{{json .State}}'])).stdout) as {
      ExitCode: number;
      OOMKilled: boolean;
    };
    assert.equal(state.ExitCode, 0, 'SIGTERM: node finished and exited 0 (not killed after the grace period)');
    const { stdout: logs } = await podman(['logs', name]);
    assert.match(logs, /SIGTERM: finishing in-flight requests[^]*Stopped\./, logs);
  });

  it('holds no dev dependency, no build tool, no sources, no .npmrc and no CA secret', async () => {
    const devDependencies = Object.keys(
      (JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as { devDependencies: object }).devDependencies,
    );
    // Every package the image's own lockfile marks dev-only (the devDependencies and what only they need) is absent.
    // (A devDependency's name may still be there as a production package's dependency, e.g. @types/node.)
    const devOnly =
      'const lock = require("/app/package-lock.json");' +
      'for (const [path, meta] of Object.entries(lock.packages)) if (meta.dev && require("fs").existsSync("/app/" + path)) console.log("dev dependency: " + path);';
    const script = [
      'cd /app',
      `node -e '${devOnly}'`,
      'for tool in gcc g++ cc make python3 tsc tsx git curl; do command -v "$tool" >/dev/null && echo "build tool: $tool"; done',
      'for path in src test tsconfig.json .npmrc /root/.npmrc /run/secrets/ca; do [ -e "$path" ] && echo "present: $path"; done',
      'ls node_modules/.bin 2>/dev/null | grep -x -e tsc -e tsx -e mocha -e eslint -e prettier | sed "s/^/dev binary: /"',
      'true',
    ].join('\n');
    const { stdout } = await podman(['run', '--rm', ...runOptions, '--entrypoint', 'sh', reference, '-c', script]);
    assert.equal(stdout, '', stdout);
    assert.ok(devDependencies.includes('typescript') && devDependencies.includes('mocha'), 'the project has dev dependencies to leave out');
    // The production dependencies are there (npm ci --omit=dev ran).
    await podman([
      'run',
      '--rm',
      ...runOptions,
      '--entrypoint',
      'node',
      reference,
      '-e',
      'require.resolve("onnxruntime-node"); require.resolve("express")',
    ]);
  });
});
