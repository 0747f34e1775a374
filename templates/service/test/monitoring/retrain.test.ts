// The retrain receiver (scripts/retrainOnAlert.ts): Alertmanager's webhook in, the Jenkins train-model job's
// remote build request out, once per cool-down. Jenkins is played by test/support/jenkins.ts.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EnvironmentError } from '../../src/contract/environment.js';
import {
  createRetrainReceiver,
  retrainSettings,
  RetrainTrigger,
  type AlertmanagerWebhook,
  type RetrainDecision,
} from '../../src/monitoring/retrainTrigger.js';
import { startJenkinsStandIn, type JenkinsStandIn } from '../support/jenkins.js';

const webhook = (
  alerts: { alertname: string; retrain?: string; status?: 'firing' | 'resolved'; feature?: string }[],
): AlertmanagerWebhook => ({
  version: '4',
  status: 'firing',
  alerts: alerts.map(({ status = 'firing', ...labels }) => ({
    status,
    labels: Object.fromEntries(Object.entries(labels).filter(([, value]) => value !== undefined)) as Record<string, string>,
  })),
});

const decisionOf = async (res: Response) => (await res.json()) as RetrainDecision & { message?: string };

describe('monitoring: retraining on alert', () => {
  let jenkins: JenkinsStandIn;
  let receiver: Server | undefined;

  beforeEach(async () => {
    jenkins = await startJenkinsStandIn();
  });
  afterEach(async () => {
    jenkins.server.close();
    receiver?.close();
    receiver = undefined;
  });

  const env = (extra: NodeJS.ProcessEnv = {}) => ({
    JENKINS_URL: `${jenkins.url}/`,
    JENKINS_USER: 'retrain',
    JENKINS_API_TOKEN: 's3cret',
    ...extra,
  });
  const startReceiver = async (trigger: RetrainTrigger) => {
    receiver = createRetrainReceiver(trigger, () => {});
    receiver.listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    return (body: unknown) =>
      fetch(`${url}/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  };

  it('starts the train-model job for a firing retrain alert, with the API token, once per cool-down', async () => {
    let now = Date.parse('2025-01-01T00:00:00Z');
    const post = await startReceiver(new RetrainTrigger(retrainSettings(env({ RETRAIN_COOLDOWN_MINUTES: '60' })), () => now));

    const first = await post(
      webhook([
        { alertname: 'MlLiveAccuracyLow', retrain: 'true' },
        { alertname: 'MlFeatureDrift', retrain: 'true', feature: 'petal_length' },
      ]),
    );
    assert.equal(first.status, 200);
    const decision = await decisionOf(first);
    assert.equal(decision.triggered, true);
    assert.deepEqual(decision.alerts, ['MlLiveAccuracyLow', 'MlFeatureDrift{feature="petal_length"}']);
    assert.equal(decision.queueItem, 'http://jenkins/queue/item/7/');
    assert.deepEqual(jenkins.requests, [
      { method: 'POST', url: '/job/train-model/build', authorization: `Basic ${Buffer.from('retrain:s3cret').toString('base64')}` },
    ]);

    now += 30 * 60_000;
    const repeated = await decisionOf(await post(webhook([{ alertname: 'MlLiveAccuracyLow', retrain: 'true' }])));
    assert.equal(repeated.triggered, false);
    assert.match(repeated.reason, /cool-down/);
    assert.equal(jenkins.requests.length, 1, 'Alertmanager re-sending the alert queues no second run');

    now += 31 * 60_000;
    assert.equal((await decisionOf(await post(webhook([{ alertname: 'MlLiveAccuracyLow', retrain: 'true' }])))).triggered, true);
    assert.equal(jenkins.requests.length, 2);
  });

  it('ignores alerts not labelled retrain="true" and resolved ones', async () => {
    const post = await startReceiver(new RetrainTrigger(retrainSettings(env())));
    const decision = await decisionOf(
      await post(webhook([{ alertname: 'MlServiceHighLatency' }, { alertname: 'MlFeatureDrift', retrain: 'true', status: 'resolved' }])),
    );
    assert.equal(decision.triggered, false);
    assert.equal(jenkins.requests.length, 0);
  });

  it('uses the job token of "Trigger builds remotely" and jobs in folders', () => {
    const trigger = new RetrainTrigger(
      retrainSettings({ JENKINS_URL: 'http://jenkins:8080', JENKINS_JOB: 'ml/train-model', JENKINS_JOB_TOKEN: 't0k' }),
    );
    assert.equal(trigger.buildUrl('drift'), 'http://jenkins:8080/job/ml/job/train-model/build?token=t0k&cause=drift');
  });

  it('answers 502 when Jenkins refuses (so Alertmanager retries), and 400/422 to what is not a webhook', async () => {
    jenkins.server.close();
    jenkins = await startJenkinsStandIn(403);
    const post = await startReceiver(new RetrainTrigger(retrainSettings(env())));
    const refused = await post(webhook([{ alertname: 'MlLiveAccuracyLow', retrain: 'true' }]));
    assert.equal(refused.status, 502);
    assert.match((await decisionOf(refused)).message!, /Jenkins answered 403/);
    assert.equal((await post({ hello: 1 })).status, 422);
  });

  it('refuses to start without a Jenkins address or credentials, naming the variable', () => {
    assert.throws(
      () => retrainSettings({}),
      (error: Error) => error instanceof EnvironmentError && /JENKINS_URL/.test(error.message),
    );
    assert.throws(() => retrainSettings({ JENKINS_URL: 'http://jenkins:8080' }), /JENKINS_API_TOKEN/);
    assert.throws(() => retrainSettings({ JENKINS_URL: 'http://jenkins:8080', JENKINS_USER: 'a' }), /together/);
    assert.throws(() => retrainSettings({ ...env(), RETRAIN_COOLDOWN_MINUTES: 'soon' }), /RETRAIN_COOLDOWN_MINUTES/);
  });
});
