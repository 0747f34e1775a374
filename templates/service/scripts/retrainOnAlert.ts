// `npm run retrain-receiver`: the Alertmanager webhook receiver that starts the Jenkins train-model job when
// an alert labelled retrain="true" fires (live accuracy under its threshold, data drift over its threshold).
// Run it where Alertmanager can reach it and it can reach Jenkins; monitoring/alertmanager.yml points at it.
//
//   JENKINS_URL=http://jenkins:8080  JENKINS_USER=retrain  JENKINS_API_TOKEN=…   (or JENKINS_JOB_TOKEN=…)
//   JENKINS_JOB=train-model  RETRAIN_COOLDOWN_MINUTES=60  RETRAIN_RECEIVER_HOST=127.0.0.1  RETRAIN_RECEIVER_PORT=9095
import { EnvironmentError } from '../src/contract/environment.js';
import { createRetrainReceiver, retrainSettings, RetrainTrigger } from '../src/monitoring/retrainTrigger.js';

try {
  const settings = retrainSettings();
  const host = process.env.RETRAIN_RECEIVER_HOST || '127.0.0.1';
  const port = Number(process.env.RETRAIN_RECEIVER_PORT || 9095);
  const server = createRetrainReceiver(new RetrainTrigger(settings));
  server.listen(port, host, () =>
    console.log(`Retrain receiver on http://${host}:${port}/alerts → ${settings.jenkinsUrl}, job ${settings.job}`),
  );
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} catch (error) {
  console.error(error instanceof EnvironmentError ? `Cannot start: ${error.message}` : error);
  process.exit(1);
}
