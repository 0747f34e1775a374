// The Ansible part with Debian's ansible-core, ansible (its collections: community.general, kubernetes.core)
// and ansible-lint: the playbooks pass `ansible-playbook --syntax-check` and `ansible-lint --offline` with the
// production profile, and the inventory comes from config.yaml.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { inventoryYaml } from '../../generators/ansible/index.js';
import { partContext } from '../../generators/deploymentNames.js';
import { parseSpec } from '../../generators/contract.js';
import { ANSIBLE_YAML_TAGS, IRIS, FULL_CONFIG, generatedProject } from '../support/deployProject.js';
import { helmBinary } from '../support/helmBinaries.js';
import { run } from '../support/process.js';

const PLAYBOOKS = ['setup-microk8s.yaml', 'deploy.yaml'];
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;

describe('ansible: the playbooks and the inventory', function () {
  this.timeout(180_000);

  for (const [label, config] of [
    ['the iris config', undefined],
    ['a config with remote hosts', FULL_CONFIG],
  ] as const) {
    it(`pass ansible-playbook --syntax-check and ansible-lint --offline --profile production (${label})`, async () => {
      const ansible = join(await generatedProject(config), 'ansible');
      const syntax = await run('ansible-playbook', ['--syntax-check', ...PLAYBOOKS], { cwd: ansible });
      assert.match(syntax.stdout, /playbook: setup-microk8s\.yaml[^]*playbook: deploy\.yaml/);
      assert.doesNotMatch(syntax.stderr, /WARNING/, syntax.stderr);
      const lint = await run('ansible-lint', ['--offline', '--profile', 'production', '--nocolor', ...PLAYBOOKS, 'inventory.yaml'], {
        cwd: ansible,
      });
      assert.match(`${lint.stdout}${lint.stderr}`, /Passed with production profile: 0 failure\(s\), 0 warning\(s\) on 3 files/);
    });
  }

  it('ansible-lint fails a playbook that breaks the production rules (so the check above can fail)', async () => {
    const ansible = join(await generatedProject(), 'ansible');
    const bad = join(ansible, 'bad.yaml');
    writeFileSync(bad, '---\n- hosts: microk8s\n  tasks:\n    - shell: microk8s enable dns\n');
    try {
      await assert.rejects(
        run('ansible-lint', ['--offline', '--profile', 'production', '--nocolor', 'bad.yaml'], { cwd: ansible }),
        /fqcn|name\[missing\]|no-changed-when/,
      );
    } finally {
      rmSync(bad);
    }
  });

  it('the inventory: loopback managed locally, other hosts over SSH with their user, the deployment’s names as variables', async () => {
    const local = parse(readFileSync(join(await generatedProject(), 'ansible/inventory.yaml'), 'utf8'), {
      customTags: ANSIBLE_YAML_TAGS,
    }) as Loose;
    assert.deepEqual(local.microk8s.hosts, { local: { ansible_host: '127.0.0.1', ansible_connection: 'local' } });
    assert.deepEqual(local.microk8s.vars.microk8s_addons, ['dns', 'ingress', 'registry', 'helm3', 'metrics-server', 'hostpath-storage']);
    assert.equal(local.microk8s.vars.service_namespace, 'iris-classifier');
    const remote = parse(readFileSync(join(await generatedProject(FULL_CONFIG), 'ansible/inventory.yaml'), 'utf8'), {
      customTags: ANSIBLE_YAML_TAGS,
    }) as Loose;
    assert.deepEqual(remote.microk8s.hosts, {
      'node-1': { ansible_host: '10.0.0.11', ansible_user: 'deploy' },
      'node-2': { ansible_host: '10.0.0.12', ansible_user: 'admin' },
    });
    assert.equal(remote.microk8s.vars.microk8s_channel, '1.31/stable');
    assert.equal(remote.microk8s.vars.microk8s_user, 'deploy');
    assert.equal(remote.microk8s.vars.service_namespace, 'ml-serving');
  });

  it('the inventory values are !unsafe: a Jinja2 expression that slipped past config.yaml is never run by ansible', async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'unsafe-inventory-'));
    try {
      const marker = join(scratch, 'pwned');
      const spec = parseSpec(readFileSync(join(IRIS, 'features.yaml'), 'utf8'), readFileSync(join(IRIS, 'config.yaml'), 'utf8'));
      // The schema refuses such an address (test/generator/errors.test.ts); here it is forced past it.
      const hostile = `127.0.0.1{{ lookup('pipe', 'touch ${marker}') }}`;
      const config = { ...spec.config, ansible: { ...spec.config.ansible, hosts: [{ name: 'local', address: '127.0.0.1' }] } };
      const inventory = inventoryYaml(config, partContext(spec)).replace('!unsafe 127.0.0.1', `!unsafe ${JSON.stringify(hostile)}`);
      writeFileSync(join(scratch, 'inventory.yaml'), inventory);
      const listed = await run('ansible-inventory', ['-i', 'inventory.yaml', '--host', 'local'], { cwd: scratch });
      assert.deepEqual((JSON.parse(listed.stdout) as Loose).ansible_host, { __ansible_unsafe: hostile });
      await run('ansible', ['all', '-i', 'inventory.yaml', '-m', 'ansible.builtin.ping'], { cwd: scratch });
      assert.equal(existsSync(marker), false, 'the lookup in ansible_host ran');
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  it('setup is idempotent: add-ons already enabled are skipped, the read-only commands report no change', async () => {
    const [play] = parse(readFileSync(join(await generatedProject(), 'ansible/setup-microk8s.yaml'), 'utf8')) as Loose[];
    const enable = play.tasks.find((task: Loose) => task.name === 'Enable the missing add-ons');
    assert.match(enable.loop, /microk8s_addons \| difference\(microk8s_enabled_addons\)/);
    for (const task of play.tasks.filter((each: Loose) => each['ansible.builtin.command'] && each !== enable))
      assert.equal(task.changed_when, false, task.name);
    const modules = play.tasks.map((task: Loose) => Object.keys(task).find((key) => key.includes('.')));
    assert.deepEqual(modules.slice(0, 3), ['community.general.snap', 'ansible.builtin.user', 'ansible.builtin.file']);
    const user = play.tasks.find((task: Loose) => task['ansible.builtin.user'])['ansible.builtin.user'];
    assert.deepEqual([user.groups, user.append], [['microk8s'], true]);
  });

  it('no secret is written: the deploy takes them from Ansible Vault or the environment, and hides them from the log', async () => {
    const ansible = join(await generatedProject(FULL_CONFIG), 'ansible');
    const [play] = parse(readFileSync(join(ansible, 'deploy.yaml'), 'utf8')) as Loose[];
    assert.match(play.vars.service_api_keys_given, /vault_api_keys \| default\(lookup\('ansible\.builtin\.env', 'API_KEYS'\)\)/);
    const helm = play.tasks.flatMap((task: Loose) => task.block ?? [task]).find((task: Loose) => task['kubernetes.core.helm']);
    assert.equal(helm.no_log, true);
    for (const file of ['deploy.yaml', 'setup-microk8s.yaml', 'inventory.yaml', 'ansible.cfg'])
      assert.doesNotMatch(readFileSync(join(ansible, file), 'utf8'), /password\s*[:=]\s*\S|ansible_become_pass|ansible_password/i, file);
  });

  describe('deploy.yaml, run on this machine against a stand-in for MicroK8s’s helm3', function () {
    // No MicroK8s here: the playbook runs against the iris inventory's local host with binary_path pointing at a
    // shim that records what the kubernetes.core.helm module gives helm, and renders the chart with the real helm 3
    // (helm template) from the very values file the module wrote. Each run takes about 10 s.
    let ansible: string;
    let scratch: string;

    before(async () => {
      ansible = join(await generatedProject(), 'ansible');
      scratch = mkdtempSync(join(tmpdir(), 'deploy-shim-'));
      writeFileSync(join(scratch, 'kubeconfig'), 'apiVersion: v1\nkind: Config\nclusters: []\n');
      const shim = join(scratch, 'microk8s.helm3');
      writeFileSync(
        shim,
        [
          '#!/bin/sh',
          '# Stands in for microk8s.helm3: records its arguments, answers what the helm module asks, and on upgrade',
          '# keeps the values file and renders the chart with it.',
          'printf \'%s\\n\' "$*" >>"$SHIM_DIR/args"',
          'case "$1" in',
          '  version) echo \'version.BuildInfo{Version:"v3.17.0", GitCommit:"", GitTreeState:"clean", GoVersion:"go1.23"}\' ;;',
          "  list) echo '[]' ;;",
          '  show) cat "$3/Chart.yaml" ;;',
          '  upgrade)',
          '    for arg; do case "$arg" in -f=*) values=${arg#-f=} ;; esac; done',
          '    for arg; do release=$chart; chart=$arg; done',
          '    printf \'%s\\n\' "$values" >"$SHIM_DIR/values-path"',
          '    printf \'%s\\n\' "$TMPDIR" >"$SHIM_DIR/tmpdir"',
          '    stat -c %a "$TMPDIR" >"$SHIM_DIR/tmpdir-mode"',
          '    printf \'%s\\n\' "$HELM_NAMESPACE" >"$SHIM_DIR/namespace"',
          '    cp "$values" "$SHIM_DIR/values.yaml"',
          '    exec "$REAL_HELM" template "$release" "$chart" --namespace "$HELM_NAMESPACE" -f "$values" >"$SHIM_DIR/manifests.yaml" ;;',
          '  *) echo "unexpected: $*" >&2; exit 1 ;;',
          'esac',
          '',
        ].join('\n'),
      );
      chmodSync(shim, 0o755);
    });

    after(() => rmSync(scratch, { recursive: true, force: true }));

    /** Runs the deploy's helm tasks (from the private folder on) as ansible-playbook -vvv; the output and what helm got. */
    async function deploy(env: NodeJS.ProcessEnv, ...extra: string[]) {
      const shimDir = mkdtempSync(join(scratch, 'run-'));
      const { stdout, stderr } = await run(
        'ansible-playbook',
        [
          'deploy.yaml',
          '-vvv',
          '--start-at-task',
          'Make a private folder for the values file',
          // root here, without sudo: the play's become is turned off, and the chart is read where it was generated
          '-e',
          'ansible_become=false',
          '-e',
          `service_chart_dest=${join(ansible, '..', 'helm')}`,
          '-e',
          `microk8s_helm=${join(scratch, 'microk8s.helm3')}`,
          '-e',
          `microk8s_kubeconfig=${join(scratch, 'kubeconfig')}`,
          ...extra,
        ],
        { cwd: ansible, env: { SHIM_DIR: shimDir, REAL_HELM: helmBinary(3), API_KEYS: '', MONGODB_URL: '', ...env } },
      );
      const read = (name: string) => readFileSync(join(shimDir, name), 'utf8');
      const objects = (parseAllDocuments(read('manifests.yaml')) as Loose[]).map((doc) => doc.toJS()).filter(Boolean);
      const secret = objects.find((object: Loose) => object.kind === 'Secret');
      const deployment = objects.find((object: Loose) => object.kind === 'Deployment');
      return {
        output: `${stdout}${stderr}`,
        args: read('args'),
        values: parse(read('values.yaml')) as Loose,
        valuesPath: read('values-path').trim(),
        tmpdir: read('tmpdir').trim(),
        tmpdirMode: read('tmpdir-mode').trim(),
        namespace: read('namespace').trim(),
        secretData: Object.fromEntries(
          Object.entries(secret.data as Record<string, string>).map(([key, value]) => [key, Buffer.from(value, 'base64').toString()]),
        ),
        apiKeysEnv: deployment.spec.template.spec.containers[0].env.find((entry: Loose) => entry.name === 'API_KEYS').valueFrom
          .secretKeyRef,
      };
    }

    const HOW_TO_READ =
      "microk8s kubectl --namespace iris-classifier get secret iris-classifier -o jsonpath='{.data.API_KEYS}' | base64 -d";

    it('no key given (API_KEYS blank): no apiKeys value is passed, so the chart generates its key; says how to read it', async () => {
      const result = await deploy({ API_KEYS: ' , ' });
      assert.match(result.args, /^upgrade -i --reset-values --wait --create-namespace -f=\S+ iris-classifier \S+\/helm$/m);
      assert.equal(result.namespace, 'iris-classifier');
      assert.deepEqual(result.values, { image: { tag: '1.0.0' }, secret: {} });
      assert.match(result.secretData.API_KEYS ?? '', /^[A-Za-z0-9]{40}$/, 'the chart’s generated key');
      assert.equal(result.apiKeysEnv.optional, false);
      assert.ok(
        result.output.includes(
          'No API key was given (vault_api_keys or API_KEYS), so the chart keeps the one in its Secret (generated at install)',
        ),
        result.output,
      );
      assert.ok(result.output.includes(HOW_TO_READ), result.output);
    });

    it('keys given: cleaned (trimmed, empty and repeated dropped), passed through a private folder removed after, never logged', async () => {
      const result = await deploy({
        API_KEYS: ' key-one-7f3a , ,key-two-91bc,key-one-7f3a\n',
        MONGODB_URL: ' mongodb://user:pw-5e2d@db:27017/ ',
      });
      assert.deepEqual(result.values.secret, { apiKeys: 'key-one-7f3a,key-two-91bc', mongodbUrl: 'mongodb://user:pw-5e2d@db:27017/' });
      assert.deepEqual(result.secretData, { API_KEYS: 'key-one-7f3a,key-two-91bc', MONGODB_URL: 'mongodb://user:pw-5e2d@db:27017/' });
      // The module's values file was in a folder only root can enter, not in the shared /tmp, and is gone.
      assert.equal(dirname(result.valuesPath), result.tmpdir);
      assert.notEqual(result.tmpdir, tmpdir());
      assert.equal(result.tmpdirMode, '700');
      assert.equal(existsSync(result.tmpdir), false, 'the private folder is removed');
      for (const secret of ['key-one-7f3a', 'key-two-91bc', 'pw-5e2d'])
        assert.ok(!result.output.includes(secret), `${secret} in the output`);
      assert.match(result.output, /the output has been hidden due to the fact that 'no_log: true'/);
      assert.ok(result.output.includes('The API keys are the ones given'), result.output);
      assert.ok(result.output.includes(HOW_TO_READ), result.output);
    });

    it('keys from Ansible Vault win over the environment, and may be a YAML list', async () => {
      const vars = join(scratch, 'vault-vars.yaml');
      writeFileSync(vars, stringify({ vault_api_keys: [' vault-key-1 ', '', 'vault-key-2'] }));
      const result = await deploy({ API_KEYS: 'env-key' }, '-e', `@${vars}`);
      assert.deepEqual(result.values.secret, { apiKeys: 'vault-key-1,vault-key-2' });
    });
  });
});
