// GET /dashboard: the page and the files it names are served with their content types under the service's
// Content-Security-Policy, which they satisfy (no inline script or style, nothing from another origin); they need no
// API key, whatever server.auth.public_paths says, while the data the page reads does. test/ at the generator's
// root opens the page in headless Chromium against a running service.
import assert from 'node:assert/strict';
import type { RequestListener } from 'node:http';
import request from 'supertest';
import { createRequestListener } from '../../src/http/app.js';
import { projectPaths } from '../../src/contract/environment.js';
import { loadSpec, type Spec } from '../../src/contract/index.js';
import { withServer } from '../support/serving.js';

const KEY = 'dashboard-key-0123456789abcdef';

/** The same-origin paths a page loads: its scripts' src and its style sheets' href. */
function assetsOf(html: string): { scripts: string[]; styles: string[] } {
  const scripts = [...html.matchAll(/<script\b[^>]*\bsrc="([^"]+)"/g)].map((match) => match[1]!);
  const styles = [...html.matchAll(/<link\b[^>]*\brel="stylesheet"[^>]*\bhref="([^"]+)"/g)].map((match) => match[1]!);
  return { scripts, styles };
}

/** The directives of a Content-Security-Policy header by name. */
function directives(policy: string): Map<string, string[]> {
  return new Map(
    policy
      .split(';')
      .map((part) => part.trim().split(/\s+/))
      .filter(([name]) => name)
      .map(([name, ...values]) => [name!, values]),
  );
}

describe('the live dashboard (GET /dashboard)', () => {
  let spec: Spec;

  before(() => {
    const paths = projectPaths();
    spec = loadSpec(paths.features, paths.config);
  });

  const listen = (settings: Spec, apiKeys?: string[]): RequestListener =>
    createRequestListener({ spec: settings, model: {}, onError: () => {}, apiKeys });

  it('serves an HTML page whose script and style sheet are files of the service, allowed by its Content-Security-Policy', async () => {
    const app = listen(spec);
    const page = await request(app).get('/dashboard').expect(200);
    assert.match(page.headers['content-type']!, /^text\/html; charset=utf-8/);
    const csp = directives(page.headers['content-security-policy']!);
    assert.deepEqual(csp.get('script-src'), ["'self'"], 'scripts only from the service itself');
    assert.deepEqual(csp.get('script-src-attr'), ["'none'"], 'no inline event handlers');
    assert.deepEqual(csp.get('default-src'), ["'self'"], 'fetch (connect-src) only to the service itself');
    assert.equal(page.headers['x-content-type-options'], 'nosniff');

    const html = page.text;
    // Nothing the policy would block: every script is a file, no inline handler or style, no other origin.
    assert.doesNotMatch(html, /<script\b(?![^>]*\bsrc=)[^>]*>/, 'an inline script');
    assert.doesNotMatch(html, /\son[a-z]+=/i, 'an inline event handler');
    assert.doesNotMatch(html, /<style\b|\sstyle=/i, 'an inline style');
    assert.doesNotMatch(html, /\b(src|href)="(https?:)?\/\//, 'a file from another origin');

    const { scripts, styles } = assetsOf(html);
    assert.deepEqual(scripts, ['/dashboard/dashboard.js']);
    assert.deepEqual(styles, ['/dashboard/dashboard.css']);
    const script = await request(app).get(scripts[0]!).expect(200);
    assert.match(script.headers['content-type']!, /^text\/javascript; charset=utf-8/);
    assert.match(script.text, /fetch\(/);
    assert.doesNotMatch(script.text, /https?:\/\/(?!www\.w3\.org\/2000\/svg)/, 'the script reaches no other origin');
    const style = await request(app).get(styles[0]!).expect(200);
    assert.match(style.headers['content-type']!, /^text\/css; charset=utf-8/);
    assert.doesNotMatch(style.text, /@import|url\(/, 'the style sheet loads nothing');
  });

  it('with API keys, serves the page and its files without a key even when public_paths is empty; the data it reads needs the key', async () => {
    const app = listen(withServer(spec, { auth: { public_paths: [] } }), [KEY]);
    for (const path of ['/dashboard', '/dashboard/dashboard.js', '/dashboard/dashboard.css']) await request(app).get(path).expect(200);
    for (const path of ['/metrics', '/monitoring', '/ready', '/openapi.json']) {
      const refused = await request(app).get(path).expect(401);
      // The page learns the header to send the key in from here (or from the OpenAPI document's security scheme).
      assert.equal(refused.headers['www-authenticate'], 'ApiKey header="x-api-key"', path);
      assert.equal(refused.body.error, 'unauthorized');
      const keyed = await request(app).get(path).set('x-api-key', KEY);
      assert.notEqual(keyed.status, 401, path); // /ready: 503 here, the test serves no model
    }
  });

  it('with API keys and the default public paths, /monitoring needs the key, and the OpenAPI document names its header', async () => {
    const app = listen(spec, [KEY]);
    await request(app).get('/dashboard').expect(200);
    await request(app).get('/monitoring').expect(401);
    const monitoring = await request(app).get('/monitoring').set('x-api-key', KEY).expect(200);
    assert.ok(monitoring.body.drift && monitoring.body.live, 'the report the page draws');
    const { body } = await request(app).get('/openapi.json').expect(200);
    assert.equal(body.components.securitySchemes.ApiKey.name, 'x-api-key');
  });

  it('is linked from the OpenAPI document that /docs shows, and is not an operation of the API', async () => {
    const { body } = await request(listen(spec)).get('/openapi.json').expect(200);
    assert.match(body.info.description, /\[\/dashboard\]\(\/dashboard\)/);
    assert.ok(!Object.keys(body.paths).some((path) => path.startsWith('/dashboard')));
  });

  it('refuses a wrong key sent with the page, as on every public path, and serves the page without one', async () => {
    const app = listen(spec, [KEY]);
    await request(app).get('/dashboard').set('x-api-key', 'wrong').expect(401);
    await request(app).get('/dashboard').expect(200);
  });
});
