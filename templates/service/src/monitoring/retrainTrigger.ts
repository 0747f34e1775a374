// Retraining on alert: an HTTP receiver for Alertmanager's webhook (monitoring/alertmanager.yml routes the
// alerts labelled retrain="true" to it) that starts the Jenkins train-model job through Jenkins' remote API.
// Jenkins credentials come from the environment only. A cool-down keeps a long-firing alert (Alertmanager
// re-sends it every repeat_interval) from queueing a training run each time. scripts/retrainOnAlert.ts runs it.
import { createServer, type Server } from 'node:http';
import { z } from 'zod';
import { EnvironmentError } from '../contract/environment.js';

export interface RetrainSettings {
  /** JENKINS_URL, e.g. http://jenkins.example.com:8080 */
  jenkinsUrl: string;
  /** JENKINS_JOB: the job's name, folders separated by / (default train-model). */
  job: string;
  /** JENKINS_USER and JENKINS_API_TOKEN: a Jenkins user and one of its API tokens (HTTP basic auth, no CSRF crumb needed). */
  user?: string;
  apiToken?: string;
  /** JENKINS_JOB_TOKEN: the job's "Trigger builds remotely" token, if it has one. */
  jobToken?: string;
  /** RETRAIN_COOLDOWN_MINUTES (default 60): no second trigger within this time. */
  cooldownMs: number;
}

export function retrainSettings(env: NodeJS.ProcessEnv = process.env): RetrainSettings {
  const jenkinsUrl = env.JENKINS_URL?.replace(/\/+$/, '');
  if (!jenkinsUrl || !/^https?:\/\//.test(jenkinsUrl)) {
    throw new EnvironmentError(
      `JENKINS_URL must be the Jenkins address, e.g. http://jenkins:8080, got ${JSON.stringify(env.JENKINS_URL ?? '')}`,
    );
  }
  const user = env.JENKINS_USER || undefined;
  const apiToken = env.JENKINS_API_TOKEN || undefined;
  const jobToken = env.JENKINS_JOB_TOKEN || undefined;
  if (Boolean(user) !== Boolean(apiToken)) throw new EnvironmentError('set JENKINS_USER and JENKINS_API_TOKEN together');
  if (!apiToken && !jobToken)
    throw new EnvironmentError('set JENKINS_USER and JENKINS_API_TOKEN (or JENKINS_JOB_TOKEN) so Jenkins accepts the trigger');
  const minutes = Number(env.RETRAIN_COOLDOWN_MINUTES || 60);
  if (!Number.isFinite(minutes) || minutes < 0) {
    throw new EnvironmentError(`RETRAIN_COOLDOWN_MINUTES must be a number of minutes, got ${JSON.stringify(env.RETRAIN_COOLDOWN_MINUTES)}`);
  }
  return { jenkinsUrl, job: env.JENKINS_JOB || 'train-model', user, apiToken, jobToken, cooldownMs: minutes * 60_000 };
}

/** Alertmanager's webhook body (version 4): the parts used here. */
export const alertmanagerWebhookSchema = z.looseObject({
  version: z.string(),
  status: z.enum(['firing', 'resolved']),
  alerts: z.array(
    z.looseObject({
      status: z.enum(['firing', 'resolved']),
      labels: z.record(z.string(), z.string()),
      annotations: z.record(z.string(), z.string()).optional(),
    }),
  ),
});
export type AlertmanagerWebhook = z.output<typeof alertmanagerWebhookSchema>;

export interface RetrainDecision {
  triggered: boolean;
  reason: string;
  /** The firing retrain alerts, as alertname{feature=…}. */
  alerts: string[];
  /** Jenkins' queue item URL (its Location header) when triggered. */
  queueItem?: string;
}

export class RetrainTrigger {
  private lastTriggered: number | undefined;

  constructor(
    private readonly settings: RetrainSettings,
    private readonly now: () => number = Date.now,
  ) {}

  /** The URL that queues a build: /job/<a>/job/<b>/build, with the job token and a cause when there is a token. */
  buildUrl(cause: string): string {
    const path = this.settings.job
      .split('/')
      .map((part) => `/job/${encodeURIComponent(part)}`)
      .join('');
    const query = this.settings.jobToken ? `?${new URLSearchParams({ token: this.settings.jobToken, cause })}` : '';
    return `${this.settings.jenkinsUrl}${path}/build${query}`;
  }

  async handle(webhook: AlertmanagerWebhook): Promise<RetrainDecision> {
    const alerts = webhook.alerts
      .filter((alert) => alert.status === 'firing' && alert.labels.retrain === 'true')
      .map(({ labels }) => {
        const { alertname = 'alert', feature, metric } = labels;
        const detail = feature ? `{feature="${feature}"}` : metric ? `{metric="${metric}"}` : '';
        return `${alertname}${detail}`;
      });
    if (!alerts.length) return { triggered: false, reason: 'no firing alert labelled retrain="true"', alerts };
    const now = this.now();
    if (this.lastTriggered !== undefined && now - this.lastTriggered < this.settings.cooldownMs) {
      const until = new Date(this.lastTriggered + this.settings.cooldownMs).toISOString();
      return { triggered: false, reason: `a training run was started less than the cool-down ago; next possible at ${until}`, alerts };
    }
    const { user, apiToken } = this.settings;
    const headers: Record<string, string> = {};
    if (user && apiToken) headers.authorization = `Basic ${Buffer.from(`${user}:${apiToken}`).toString('base64')}`;
    const previous = this.lastTriggered;
    this.lastTriggered = now; // before the request, so webhooks arriving meanwhile see the cool-down
    try {
      const response = await fetch(this.buildUrl(`Alertmanager: ${alerts.join(', ')}`), { method: 'POST', headers });
      await response.arrayBuffer();
      if (!response.ok) {
        throw new Error(`Jenkins answered ${response.status} ${response.statusText} to the build request for ${this.settings.job}`);
      }
      return { triggered: true, reason: `started ${this.settings.job}`, alerts, queueItem: response.headers.get('location') ?? undefined };
    } catch (error) {
      this.lastTriggered = previous; // nothing started: the next webhook tries again
      throw error;
    }
  }
}

/**
 * The webhook receiver: POST /alerts takes Alertmanager's body and answers the decision as JSON (502 when
 * Jenkins refused, so Alertmanager retries); GET /health answers ok.
 */
export function createRetrainReceiver(trigger: RetrainTrigger, log: (message: string) => void = console.log): Server {
  return createServer((req, res) => {
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (req.method === 'GET' && req.url === '/health') return reply(200, { status: 'ok' });
    if (req.method !== 'POST' || req.url !== '/alerts')
      return reply(404, { error: 'not_found', message: 'POST Alertmanager webhooks to /alerts' });
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= 1_048_576) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > 1_048_576) return reply(413, { error: 'payload_too_large', message: 'The body is larger than 1 MiB' });
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return reply(400, { error: 'malformed_json', message: 'The body is not JSON' });
      }
      const parsed = alertmanagerWebhookSchema.safeParse(body);
      if (!parsed.success) return reply(422, { error: 'validation_failed', message: 'Not an Alertmanager webhook (version 4) body' });
      trigger.handle(parsed.data).then(
        (decision) => {
          log(
            `retrain: ${decision.triggered ? 'triggered' : 'not triggered'} (${decision.reason}) for ${decision.alerts.join(', ') || 'no alert'}`,
          );
          reply(200, decision);
        },
        (error: Error) => {
          log(`retrain: ${error.message}`);
          reply(502, { error: 'jenkins_failed', message: error.message });
        },
      );
    });
  });
}
