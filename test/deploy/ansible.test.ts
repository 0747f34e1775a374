// The Ansible part with Debian's ansible-core, ansible (its collections: community.general, kubernetes.core)
// and ansible-lint: the playbooks pass `ansible-playbook --syntax-check` and `ansible-lint --offline` with the
// production profile, and the inventory comes from config.yaml.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { inventoryYaml } from '../../generators/ansible/index.js';
import { partContext } from '../../generators/deploymentNames.js';
import { parseSpec } from '../../templates/service/src/spec/load.js';
import { IRIS } from '../support/deployProject.js';
import { FULL_CONFIG, generatedProject } from '../support/deployProject.js';
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
    const local = parse(readFileSync(join(await generatedProject(), 'ansible/inventory.yaml'), 'utf8')) as Loose;
    assert.deepEqual(local.microk8s.hosts, { local: { ansible_host: '127.0.0.1', ansible_connection: 'local' } });
    assert.deepEqual(local.microk8s.vars.microk8s_addons, ['dns', 'ingress', 'registry', 'helm3', 'metrics-server', 'hostpath-storage']);
    assert.equal(local.microk8s.vars.service_namespace, 'iris-classifier');
    const remote = parse(readFileSync(join(await generatedProject(FULL_CONFIG), 'ansible/inventory.yaml'), 'utf8')) as Loose;
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
    assert.match(play.vars.service_api_keys, /vault_api_keys \| default\(lookup\('ansible\.builtin\.env', 'API_KEYS'\)\)/);
    const helm = play.tasks.find((task: Loose) => task['kubernetes.core.helm']);
    assert.equal(helm.no_log, true);
    for (const file of ['deploy.yaml', 'setup-microk8s.yaml', 'inventory.yaml', 'ansible.cfg'])
      assert.doesNotMatch(readFileSync(join(ansible, file), 'utf8'), /password\s*[:=]\s*\S|ansible_become_pass|ansible_password/i, file);
  });
});
