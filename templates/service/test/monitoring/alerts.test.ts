// The files of monitoring/: the Prometheus alert rules pass `promtool check rules` and their unit tests
// (`promtool test rules`), Alertmanager's routing passes `amtool check-config` and sends the retrain alerts to
// the retrain receiver, and the Grafana dashboard is JSON whose every query is valid PromQL over metrics the
// service exports. promtool and amtool come from Debian's prometheus and prometheus-alertmanager packages.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import request from 'supertest';
import { parse } from 'yaml';
import { TASK_METRICS } from '../../src/monitoring/metrics.js';
import { createApp } from '../../src/http/app.js';
import { OnnxPredictor } from '../../src/runtime/predictor.js';
import { TASKS } from '../../src/contract/index.js';
import { familyOf, installed, metricFamilies, promqlMetricNames } from '../support/monitoring.js';
import { trainedProject } from '../support/trainedModel.js';

const monitoringFile = (name: string) => fileURLToPath(new URL(`../../monitoring/${name}`, import.meta.url));
const RULES = monitoringFile('prometheus-rules.yml');
const DASHBOARD = monitoringFile('grafana-dashboard.json');
const ALERTMANAGER = monitoringFile('alertmanager.yml');

/** Runs a tool, failing with its output. */
function tool(command: string, args: string[], cwd?: string): string {
  try {
    return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed:\n${stdout ?? ''}${stderr ?? ''}`, { cause: error });
  }
}

interface Panel {
  title: string;
  targets?: { expr: string }[];
}

const dashboardExpressions = (): { panel: string; expr: string }[] =>
  (JSON.parse(readFileSync(DASHBOARD, 'utf8')).panels as Panel[]).flatMap((panel) =>
    (panel.targets ?? []).map(({ expr }) => ({ panel: panel.title, expr })),
  );
const ruleExpressions = (): { alert: string; expr: string; labels?: Record<string, string> }[] =>
  (
    parse(readFileSync(RULES, 'utf8')) as { groups: { rules: { alert: string; expr: string; labels?: Record<string, string> }[] }[] }
  ).groups.flatMap((group) => group.rules);
/** Grafana's variables, replaced so the expression is plain PromQL. */
const plainPromql = (expr: string) => expr.replaceAll('$__rate_interval', '5m').replaceAll('$job', '.+');

describe('monitoring: alert rules and dashboard', () => {
  it('the rules pass `promtool check rules` and their unit tests', function () {
    if (!installed('promtool')) {
      console.log('      skipped: promtool is not installed (Debian: apt-get install prometheus)');
      this.skip();
    }
    assert.match(tool('promtool', ['check', 'rules', RULES]), /SUCCESS: 6 rules found/);
    assert.match(tool('promtool', ['test', 'rules', 'prometheus-rules.test.yml'], monitoringFile('.')), /SUCCESS/);
  });

  it('routes the alerts labelled retrain="true" to the retrain receiver, and the others to people only (amtool)', function () {
    if (!installed('amtool')) {
      console.log('      skipped: amtool is not installed (Debian: apt-get install prometheus-alertmanager)');
      this.skip();
    }
    assert.match(tool('amtool', ['check-config', ALERTMANAGER]), /SUCCESS/);
    const route = (...labels: string[]) => tool('amtool', ['config', 'routes', 'test', `--config.file=${ALERTMANAGER}`, ...labels]).trim();
    for (const rule of ruleExpressions()) {
      const expected = rule.labels?.retrain === 'true' ? 'retrain-model,default' : 'default';
      assert.equal(
        route(`alertname=${rule.alert}`, ...Object.entries(rule.labels ?? {}).map(([k, v]) => `${k}=${v}`)),
        expected,
        rule.alert,
      );
    }
    const retrain = parse(readFileSync(ALERTMANAGER, 'utf8')).receivers.find(
      (receiver: { name: string }) => receiver.name === 'retrain-model',
    );
    assert.match(retrain.webhook_configs[0].url, /\/alerts$/, 'the path the retrain receiver serves');
  });

  it('the dashboard is JSON whose every query is valid PromQL (checked by promtool as recording rules)', function () {
    const expressions = dashboardExpressions();
    assert.ok(expressions.length >= 15, `${expressions.length} queries`);
    if (!installed('promtool')) {
      console.log('      skipped the PromQL check: promtool is not installed (Debian: apt-get install prometheus)');
      this.skip();
    }
    const dir = mkdtempSync(join(tmpdir(), 'dashboard-'));
    try {
      const rules = expressions.map(({ expr }, i) => ({ record: `dashboard:query_${i}`, expr: plainPromql(expr) }));
      writeFileSync(join(dir, 'queries.yml'), JSON.stringify({ groups: [{ name: 'dashboard', rules }] }));
      assert.match(tool('promtool', ['check', 'rules', join(dir, 'queries.yml')]), new RegExp(`SUCCESS: ${rules.length} rules found`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the dashboard and the rules only use metrics the service exports (or the other task’s)', async () => {
    const project = await trainedProject();
    const app = createApp({ spec: project.spec, model: { predictor: await OnnxPredictor.load(project.modelDir, project.spec) } });
    const families = metricFamilies((await request(app).get('/metrics').expect(200)).text);
    const otherTask = TASKS.filter((task) => task !== project.spec.config.task).flatMap((task) => TASK_METRICS[task]);
    const used = new Map<string, string>();
    for (const { panel, expr } of dashboardExpressions())
      for (const name of promqlMetricNames(plainPromql(expr))) used.set(name, `panel "${panel}"`);
    for (const { alert, expr } of ruleExpressions()) for (const name of promqlMetricNames(expr)) used.set(name, `alert ${alert}`);
    assert.ok(used.has('ml_drift_psi') && used.has('http_request_duration_seconds_bucket'), 'the names are found');
    for (const [name, where] of used) {
      const family = familyOf(name, families) ?? (otherTask.includes(name.replace(/_(bucket|sum|count)$/, '')) ? name : undefined);
      assert.ok(family, `${where} uses ${name}, which GET /metrics does not export`);
    }
  });

  it('finds the metric names in PromQL', () => {
    assert.deepEqual(
      [
        ...promqlMetricNames(
          'histogram_quantile(0.99, sum by (job, le) (rate(a_bucket{route=~"/x|y", b="c"}[5m]))) > on (job) max by (job) (b_threshold) and ignoring(f) c',
        ),
      ],
      ['a_bucket', 'b_threshold', 'c'],
    );
  });
});
