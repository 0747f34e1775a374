// config.yaml read by its two readers: the generator validates the whole file, the service (at start-up) only the
// settings it uses. The deployment sections are the generator's; a mistyped top-level key fails both.
import assert from 'node:assert/strict';
import { parseSpec as parseForGenerator, SpecError } from '../../generators/contract.js';
import { parseSpec as parseForService } from '../../templates/service/src/contract/index.js';

const FEATURES = 'features:\n  - name: a\n    type: number\n';
const CONFIG = 'name: demo\nversion: 1.0.0\ntask: regression\ntarget: y\nid_field: request_id\ndata:\n  path: data.csv\n';

function problems(parse: typeof parseForService, config: string): string[] {
  try {
    parse(FEATURES, config);
    return [];
  } catch (error) {
    assert.ok(error instanceof SpecError, String(error));
    return error.message.split('\n').slice(1);
  }
}

/** config.yaml with `section` appended, and the line it starts on. */
function withSection(section: string): { config: string; line: number } {
  return { config: `${CONFIG}${section}`, line: CONFIG.split('\n').length };
}

describe('contract: config.yaml for the generator and for the service', () => {
  it('a bad deployment setting stops the generator (file:line) and does not concern the service', () => {
    const cases = [
      ['jenkins:\n  deploy: "yes"\n', 'jenkins.deploy', /expected boolean/],
      ['helm:\n  replicaz: 3\n', 'helm.replicaz', /unknown key "replicaz"/],
      ['docker:\n  base_image: node:latest\n', 'docker.base_image', /pin the image/],
      ['ansible:\n  hosts: []\n', 'ansible.hosts', /expected array to have >=1 items|too small/i],
    ] as const;
    for (const [section, field, expected] of cases) {
      const { config, line } = withSection(section);
      const found = problems(parseForGenerator, config);
      assert.equal(found.length, 1, found.join('\n'));
      assert.match(found[0]!, new RegExp(`config\\.yaml:${line + 1}:\\d+ +${field.replace('.', '\\.')}: `));
      assert.match(found[0]!, expected);
      assert.deepEqual(problems(parseForService, config), [], `the service reads no ${field}`);
    }
  });

  it('both accept the deployment sections, and the generator gives them their defaults', () => {
    const generator = parseForGenerator(FEATURES, CONFIG).config;
    assert.equal(generator.jenkins.deploy, false);
    assert.equal(generator.helm.replicas, 2);
    const service = parseForService(FEATURES, `${CONFIG}helm:\n  replicas: 3\n`).config;
    assert.deepEqual(service.helm, { replicas: 3 }, 'kept as written, unread');
    assert.equal(service.server.port, 8000, 'its own settings get their defaults');
  });

  it('an unknown top-level key is an error with file:line for both', () => {
    const { config, line } = withSection('jenkinz: true\n');
    for (const parse of [parseForGenerator, parseForService]) {
      assert.deepEqual(
        problems(parse, config).map((problem) => problem.replace(/(:\d+):\d+ +/, '$1 ')),
        [`  config.yaml:${line} jenkinz: unknown key "jenkinz"`],
      );
    }
  });

  it('a bad service setting is an error for both', () => {
    const config = `${CONFIG}server:\n  port: 70000\n`;
    for (const parse of [parseForGenerator, parseForService]) {
      const [problem, ...others] = problems(parse, config);
      assert.deepEqual(others, []);
      assert.match(problem!, /config\.yaml:\d+:\d+ +server\.port: /);
    }
  });
});
