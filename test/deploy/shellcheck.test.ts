// Every shell script a project gets passes Debian's ShellCheck (all severities, bash), for the iris config and
// for a config that sets every deployment option.
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { FULL_CONFIG, generatedProject } from '../support/deployProject.js';
import { listFiles } from '../support/generate.js';
import { run } from '../support/process.js';

const EXPECTED_SCRIPTS = [
  'docker/build-image.sh',
  'docker/ensure-model.sh',
  'docker/smoke-test.sh',
  'docker/start-local-service.sh',
  'helm/deploy.sh',
  'jenkins/start-jenkins.sh',
];

describe('shellcheck: the generated shell scripts', function () {
  this.timeout(120_000);

  for (const [label, config] of [
    ['the iris config', undefined],
    ['every deployment option set', FULL_CONFIG],
  ] as const) {
    it(`pass shellcheck, are executable and start with a bash shebang (${label})`, async () => {
      const project = await generatedProject(config);
      const scripts = listFiles(project).filter((file) => file.endsWith('.sh'));
      assert.deepEqual(scripts, EXPECTED_SCRIPTS);
      for (const script of scripts) {
        assert.match(
          readFileSync(join(project, script), 'utf8'),
          /^#!\/usr\/bin\/env bash\nset -euo pipefail|^#!\/usr\/bin\/env bash\n(#.*\n)*set -euo pipefail/,
          script,
        );
        assert.ok(statSync(join(project, script)).mode & 0o100, `${script} is executable`);
      }
      await run('shellcheck', ['--shell=bash', '--severity=style', '--external-sources', ...scripts], { cwd: project });
    });
  }

  it('shellcheck fails a script with a quoting bug (so the check above can fail)', async () => {
    const project = await generatedProject();
    writeFileSync(join(project, 'bad.sh'), '#!/usr/bin/env bash\nrm -rf $1/*\n');
    try {
      await assert.rejects(run('shellcheck', ['bad.sh'], { cwd: project }), /SC2115|SC2086/);
    } finally {
      rmSync(join(project, 'bad.sh'));
    }
  });
});
