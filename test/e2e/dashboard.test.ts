// The live dashboard as a user sees it: the committed iris example, trained and built (`npm run build` copies the
// page's files into dist/), served with API keys on, sent predictions and feedback, then /dashboard opened in
// headless Chromium. The key is typed into the page; the charts must be drawn and show the numbers /monitoring,
// /metrics and /ready give; no console error, no Content-Security-Policy violation, no request leaving
// 127.0.0.1. A screenshot is kept in test-artifacts/ (TEST_ARTIFACTS to put it elsewhere).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { parseDocument } from 'yaml';
import { chromiumAvailable, launchChromium } from '../support/browser.js';
import { ROOT } from '../support/generate.js';
import { freePort, run, waitForStatus } from '../support/process.js';

const EXAMPLE = join(ROOT, 'example');
const ARTIFACTS = process.env.TEST_ARTIFACTS ?? join(ROOT, 'test-artifacts');
const KEY = 'dashboard-e2e-key-0123456789abcdef';

// The answers under test are read field by field below; a loose type keeps that readable.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** Samples of one metric in Prometheus text: its labels and value per line. */
function samples(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .map((line) => {
      const [, labelText = '', value] = /^[^{\s]+(?:\{(.*)\})?\s+(\S+)/.exec(line)!;
      const labels = Object.fromEntries([...labelText.matchAll(/(\w+)="([^"]*)"/g)].map(([, key, text]) => [key!, text!]));
      return { labels, value: Number(value) };
    });
}

describe('the live dashboard in headless Chromium (iris example, API keys on)', function () {
  this.timeout(600_000);
  let dir: string;
  let project: string;
  let server: ChildProcess | undefined;
  let output = '';
  let base: string;
  let port: number;

  before(async function () {
    if (!chromiumAvailable()) this.skip(); // .ci/run installs Debian's chromium
    dir = mkdtempSync(join(tmpdir(), 'dashboard-e2e-'));
    project = join(dir, 'project');
    // Without a local install, build or models of the example (a developer's node_modules link, dist/, model_bin/).
    const local = new Set(['node_modules', 'dist', 'model_bin'].map((name) => join(EXAMPLE, name)));
    cpSync(EXAMPLE, project, { recursive: true, filter: (source) => !local.has(source) });
    // The generator repo's node_modules hold exactly the pinned versions the project would install.
    symlinkSync(join(ROOT, 'node_modules'), join(project, 'node_modules'), 'dir');
    // Few rows and labels before drift and live accuracy are scored, so a short test shows every number.
    const config = parseDocument(readFileSync(join(project, 'config.yaml'), 'utf8'));
    config.setIn(['monitoring', 'drift_min_rows'], 10);
    config.setIn(['monitoring', 'feedback_min_labels'], 5);
    writeFileSync(join(project, 'config.yaml'), config.toString());
    await run('npm', ['run', 'train'], { cwd: project });
    await run('npm', ['run', 'build'], { cwd: project });

    port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = spawn('node', ['dist/http/server.js'], {
      cwd: project,
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        API_KEYS: KEY,
        PREDICTION_LOG_SINKS: 'stdout,file',
        PREDICTION_LOG_FILE: join(dir, 'predictions.jsonl'),
      },
    });
    server.stdout!.on('data', (chunk) => (output += chunk));
    server.stderr!.on('data', (chunk) => (output += chunk));
    await waitForStatus(`${base}/ready`, 200, 60_000, { child: server });
    await sendTraffic();
  });
  after(() => {
    if (server && server.exitCode === null) server.kill('SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const keyed = (path: string, init: RequestInit = {}) =>
    fetch(`${base}${path}`, { ...init, headers: { 'x-api-key': KEY, 'content-type': 'application/json', ...init.headers } });

  /** The live accuracy the feedback sent makes: labels that equal the prediction over labels. */
  let expectedAccuracy: number;

  /** 40 iris rows predicted (a batch of 30 and 10 single rows), one refused row, and labels for 12 of them, 2 wrong. */
  async function sendTraffic(): Promise<void> {
    const [header, ...lines] = readFileSync(join(project, 'data/iris.csv'), 'utf8').trim().split('\n');
    const names = header!.split(',');
    const rows = lines
      .filter((_, i) => i % 3 === 0)
      .slice(0, 40)
      .map((line, i): Record<string, string | number> => {
        const values = line.split(',');
        const row = Object.fromEntries(names.map((name, j) => [name, j < 4 ? Number(values[j]) : values[j]!]));
        return { ...row, request_id: `dash-${i}` };
      });
    const strip = ({ species: _, ...row }: Record<string, unknown>) => row;
    const batch = await keyed('/predict/batch', { method: 'POST', body: JSON.stringify({ rows: rows.slice(0, 30).map(strip) }) });
    assert.equal(batch.status, 200);
    const predicted: string[] = ((await batch.json()) as Json).predictions.map((answer: Json) => answer.prediction);
    for (const row of rows.slice(30)) {
      const res = await keyed('/predict', { method: 'POST', body: JSON.stringify(strip(row)) });
      assert.equal(res.status, 200);
      predicted.push(((await res.json()) as Json).prediction);
    }
    assert.equal((await keyed('/predict', { method: 'POST', body: JSON.stringify({ sepal_length: 'long' }) })).status, 422);
    // The true species, except two labels that name another class than the one predicted.
    const classes = ['setosa', 'versicolor', 'virginica'];
    const labels = rows.slice(0, 12).map((row, i) => ({
      request_id: row.request_id,
      species: i < 2 ? classes.find((name) => name !== predicted[i]) : row.species,
    }));
    expectedAccuracy = labels.filter(({ species }, i) => species === predicted[i]).length / labels.length;
    assert.ok(expectedAccuracy < 1);
    const feedback = await keyed('/feedback/batch', { method: 'POST', body: JSON.stringify({ rows: labels }) });
    assert.equal(feedback.status, 200, await feedback.clone().text());
  }

  /** A page whose every request outside 127.0.0.1:<port> is recorded and aborted, and whose problems are collected. */
  async function openPage(browser: Awaited<ReturnType<typeof launchChromium>>) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const problems: string[] = [];
    const outside: string[] = [];
    const requests: string[] = [];
    await context.route('**/*', (route) => {
      const url = new URL(route.request().url());
      requests.push(url.pathname);
      if (url.host === `127.0.0.1:${port}`) return route.continue();
      outside.push(url.href);
      return route.abort();
    });
    // CSP violations are events in the page; this listener (written as text: the tests have no DOM types) is installed
    // by the browser, outside the page's policy.
    await context.addInitScript({
      content: `document.addEventListener('securitypolicyviolation', (event) =>
        console.error('CSP violation: ' + event.violatedDirective + ' blocked ' + event.blockedURI))`,
    });
    const page = await context.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(`console ${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    // Chromium's own log (failed loads, CSP reports, deprecations) arrives through the DevTools protocol.
    const devtools = await context.newCDPSession(page);
    devtools.on('Log.entryAdded', ({ entry }) => {
      if (entry.level === 'error' || entry.level === 'warning')
        problems.push(`browser log ${entry.level}: ${entry.text} ${entry.url ?? ''}`);
    });
    await devtools.send('Log.enable');
    return { page, problems, outside, requests, close: () => context.close() };
  }

  const text = async (page: Page, selector: string) => (await page.locator(selector).textContent())?.trim();

  it('prints its address at start-up', () => {
    assert.match(output, new RegExp(`listening on ${base} \\(docs: ${base}/docs, dashboard: ${base}/dashboard\\)`));
  });

  it('asks for the API key, draws the charts with the numbers the service reports, and refreshes itself', async () => {
    const browser = await launchChromium();
    try {
      const { page, problems, outside, requests, close } = await openPage(browser);
      await page.goto(`${base}/dashboard`);
      // The OpenAPI document says keys are on: the page asks before reading any data.
      await page.locator('#key-form').waitFor({ state: 'visible' });
      assert.match((await text(page, '#key-message'))!, /needs an API key \(sent in the x-api-key header\)/);
      assert.equal(await page.locator('#panels').isHidden(), true);
      await page.locator('#key-input').fill(KEY);
      await page.getByRole('button', { name: 'Show the dashboard' }).click();
      await page.locator('#drift-features svg rect').first().waitFor();
      assert.equal(await page.locator('#key-form').isHidden(), true);
      assert.equal(await page.evaluate("sessionStorage.getItem('dashboard.apiKey')"), KEY);
      assert.equal(await page.title(), 'iris-classifier: live dashboard');

      const report: Json = await (await keyed('/monitoring')).json();
      const ready: Json = await (await keyed('/ready')).json();
      const metrics = await (await keyed('/metrics')).text();

      // The models: the live one's identity.
      assert.equal((await page.locator('[data-model="live"] dd').first().textContent())?.trim(), report.model.version);

      // Drift: a card per feature with its PSI and a chart of the live histogram over the training one.
      assert.equal(report.drift.status, 'ok');
      const features = Object.entries(report.drift.features) as [string, Json][];
      assert.equal(await page.locator('#drift-features [data-feature]').count(), features.length);
      for (const [name, drift] of features) {
        assert.equal(await text(page, `[data-psi="${name}"]`), `PSI ${drift.psi.toFixed(3)}`, name);
        const chart = page.locator(`[data-feature="${name}"] svg`);
        const box = await chart.boundingBox();
        assert.ok(box && box.width > 100 && box.height > 100, `${name}: the chart has a size`);
        // A training bar and a live bar per bucket, each as tall as its share.
        assert.equal(await chart.locator('rect').count(), drift.histogram.buckets.length * 2, name);
        const titles = await chart.locator('rect > title').allTextContents();
        const bucket = (drift.histogram.live as number[]).findIndex((share) => share > 0);
        assert.ok(titles.includes(`${drift.histogram.buckets[bucket]}: live ${(drift.histogram.live[bucket] * 100).toFixed(1)} %`), name);
      }

      // Predictions per class, as ml_predictions_total counts them.
      const byClass = samples(metrics, 'ml_predictions_total');
      const predictionBars = page.locator('#prediction-chart svg rect');
      assert.equal(await predictionBars.count(), byClass.length);
      for (const { labels, value } of byClass) {
        assert.ok(
          (await predictionBars.locator('title').allTextContents()).includes(`${labels.class}: predictions ${value}`),
          labels.class,
        );
      }
      assert.equal(
        byClass.reduce((sum, { value }) => sum + value, 0),
        40,
      );
      // Drawn inside its panel (a chart wider than the panel would be cut off).
      const predictionBox = (await page.locator('#prediction-chart svg').boundingBox())!;
      const panelBox = (await page.locator('#predictions').boundingBox())!;
      assert.ok(predictionBox.width > 100 && predictionBox.height > 50, 'the prediction chart has a size');
      assert.ok(predictionBox.x + predictionBox.width <= panelBox.x + panelBox.width, 'the prediction chart fits its panel');

      // Requests and errors of the API's POST routes: 30-row batch, 10 single rows, 1 refused, 1 feedback batch.
      const posts = samples(metrics, 'http_requests_total').filter(({ labels }) => labels.method === 'POST');
      assert.equal(await text(page, '[data-tile="api-requests"] .tile-value'), String(posts.reduce((sum, { value }) => sum + value, 0)));
      assert.equal(await text(page, '[data-tile="api-4xx"] .tile-value'), '1');
      assert.equal(await text(page, '[data-tile="api-5xx"] .tile-value'), '0');
      assert.match((await text(page, '[data-tile="api-p95"] .tile-value'))!, /^\d+(\.\d)? (ms|s)$/);
      assert.ok(await page.locator('[data-route="POST /predict"]').isVisible());

      // Live accuracy from the 12 labels, 2 of them wrong.
      assert.equal(report.live.metrics.accuracy, expectedAccuracy);
      assert.equal(await text(page, '[data-tile="live-accuracy"] .tile-value'), report.live.metrics.accuracy.toFixed(3));
      assert.equal(await text(page, '[data-tile="live-labels"] .tile-value'), `12 / ${report.live.window.size.toLocaleString('en')}`);

      // Each prediction log sink with its counts, as /ready shows them.
      for (const [sink, stats] of Object.entries(ready.prediction_log.sinks) as [string, Json][]) {
        const cells = await page.locator(`[data-sink="${sink}"] td`).allTextContents();
        assert.equal(cells[1], 'ok', sink);
        assert.equal(cells[2], String(stats.sent), sink);
      }
      assert.deepEqual(Object.keys(ready.prediction_log.sinks).sort(), ['file', 'stdout']);

      // It refreshes itself: a second round of reads within the refresh interval (5 s), and the rate chart gets a point.
      const reads = () => requests.filter((path) => path === '/monitoring').length;
      const before = reads();
      await page.locator('#traffic-chart svg circle').first().waitFor({ timeout: 15_000 });
      assert.ok(reads() > before, 'the page read /monitoring again');

      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });

      assert.deepEqual(outside, [], 'requests that left 127.0.0.1');
      assert.deepEqual(problems, [], 'console errors and warnings, CSP violations');
      await close();
    } finally {
      await browser.close();
    }
  });

  it('says so when the key is refused (401), forgets it and asks again', async () => {
    const browser = await launchChromium();
    try {
      const { page, outside, close } = await openPage(browser);
      await page.goto(`${base}/dashboard`);
      await page.locator('#key-input').fill('not-the-key');
      await page.getByRole('button', { name: 'Show the dashboard' }).click();
      await page.getByText('The API key was refused').waitFor();
      assert.match((await text(page, '#key-message'))!, /401: The API key in the x-api-key header is not valid/);
      assert.equal(await page.evaluate("sessionStorage.getItem('dashboard.apiKey')"), null);
      assert.equal(await page.locator('#key-form').isVisible(), true);
      assert.deepEqual(outside, []);
      await close();
    } finally {
      await browser.close();
    }
  });
});
