// The training report as a user sees it: the project's own training pipeline (templates/service/src) trains the
// iris example (example/features.yaml and config.yaml, its data) and a regression table with a category, a
// boolean and blanks (test/fixtures/diabetes_mixed.csv), each once, in process; each report.html is opened in
// headless Chromium (Debian's, through playwright-core). The page must log no error, ask for nothing beyond
// its own file, and draw every chart at a visible size. A screenshot of each page is kept in
// test-artifacts/training-report/ (ignored by git) for a person to look at.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { parseSpec } from '../../templates/service/src/contract/index.js';
import { runTraining } from '../../templates/service/src/training/pipeline.js';
import { chromiumAvailable, launchChromium } from '../support/browser.js';

const EXAMPLE = new URL('../../example/', import.meta.url).pathname;
const FIXTURES = new URL('../fixtures/', import.meta.url).pathname;
const ARTIFACTS = new URL('../../test-artifacts/training-report/', import.meta.url).pathname;

interface Project {
  label: string;
  file: string;
  featuresText: string;
  configText: string;
  /** The charts the page must draw besides one per feature. */
  charts: string[];
}

const example = (name: string) => readFileSync(join(EXAMPLE, name), 'utf8');
const projects: Project[] = [
  {
    label: 'the iris example (classification)',
    file: 'iris-classification.png',
    featuresText: example('features.yaml'),
    // The data path as config.yaml has it, made absolute: the loader reads it from the working directory.
    configText: example('config.yaml').replace('path: data/iris.csv', `path: ${join(EXAMPLE, 'data', 'iris.csv')}`),
    charts: ['Confusion matrix of the holdout rows', 'ROC curves', 'Precision-recall curves', 'Calibration'],
  },
  {
    label: 'diabetes with a category, a boolean and blanks (regression)',
    file: 'diabetes-regression.png',
    featuresText: `features:
${['age', 'sex', 's1', 's2', 's4', 's5', 's6'].map((name) => `  - {name: ${name}, type: number}`).join('\n')}
${['bmi', 'bp', 's3'].map((name) => `  - {name: ${name}, type: number, required: false}`).join('\n')}
  - {name: region, type: category, values: [east, north, south, west], required: false}
  - {name: smoker, type: boolean, required: false}
`,
    configText: `name: diabetes-progression
version: 1.0.0
description: Predicts disease progression after one year <from the baseline measurements>
task: regression
target: progression
id_field: patient_id
data:
  path: ${join(FIXTURES, 'diabetes_mixed.csv')}
`,
    charts: ['Predicted vs actual', 'Residuals vs predicted', 'Distribution of the residuals'],
  },
];

/** A page whose console errors and requests beyond file: URLs are recorded (and the requests refused). */
async function guardedPage(browser: Browser): Promise<{ context: BrowserContext; page: Page; errors: string[]; outside: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const outside: string[] = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file:')) return route.continue();
    outside.push(url);
    return route.abort();
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  return { context, page, errors, outside };
}

describe('the training report in headless Chromium', function () {
  this.timeout(180_000);
  let browser: Browser;
  const stores: string[] = [];

  before(async function () {
    if (!chromiumAvailable()) this.skip(); // .ci/run installs Debian's chromium
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    for (const store of stores) rmSync(store, { recursive: true, force: true });
  });

  it('the guard sees a request that would leave the machine', async () => {
    const { context, page, outside } = await guardedPage(browser);
    try {
      await page.setContent('<img src="http://192.0.2.1/pixel.png">', { waitUntil: 'load' });
      assert.deepEqual(outside, ['http://192.0.2.1/pixel.png']);
    } finally {
      await context.close();
    }
  });

  for (const project of projects) {
    it(`${project.label}: report.html shows without errors or requests, every chart drawn`, async () => {
      const spec = parseSpec(project.featuresText, project.configText);
      const modelDir = mkdtempSync(join(tmpdir(), 'report-store-'));
      stores.push(modelDir);
      const { reportPath, metadata } = await runTraining({ spec, featuresText: project.featuresText, modelDir });

      const { context, page, errors, outside } = await guardedPage(browser);
      try {
        await page.goto(pathToFileURL(reportPath).href, { waitUntil: 'load' });
        assert.equal(await page.title(), `Training report: ${spec.config.name} · model ${metadata.model_version}`);
        // The description is shown as text, not markup.
        assert.equal(await page.locator('p.lead').innerText(), spec.config.description);
        const headings = await page.locator('h2').allInnerTexts();
        for (const heading of ['Data', 'Holdout metrics', 'Global feature importance', 'Feature distributions'])
          assert.ok(headings.includes(heading), `${heading} in ${headings.join(', ')}`);

        const charts = await page.$$eval('svg.chart', (svgs) =>
          svgs.map((svg) => {
            const box = svg.getBoundingClientRect();
            const marks = [...svg.querySelectorAll('rect, path, circle')].filter((mark) => {
              const markBox = mark.getBoundingClientRect();
              return markBox.width > 0 || markBox.height > 0;
            });
            return { title: svg.getAttribute('aria-label') ?? '', width: box.width, height: box.height, marks: marks.length };
          }),
        );
        const expected = [...project.charts, ...spec.features.features.map((feature) => `${feature.name}: training and holdout rows`)];
        assert.deepEqual(
          expected.filter((title) => !charts.some((chart) => chart.title === title)),
          [],
          'charts missing',
        );
        for (const chart of charts)
          assert.ok(chart.width > 0 && chart.height > 0 && chart.marks > 1, `${chart.title}: ${JSON.stringify(chart)}`);

        mkdirSync(ARTIFACTS, { recursive: true });
        const screenshot = join(ARTIFACTS, project.file);
        await page.screenshot({ path: screenshot, fullPage: true });
        console.log(`      screenshot: ${screenshot}`);
        assert.deepEqual(errors, [], 'console errors');
        assert.deepEqual(outside, [], 'requests beyond the file');
      } finally {
        await context.close();
      }
    });
  }
});
