// The live dashboard's script (GET /dashboard loads it). Every 5 s it reads three routes of the service and draws
// them as SVG: GET /metrics (Prometheus text, parsed here: requests, errors, latency, predictions), GET /monitoring
// (the models, drift per feature with its histograms, live accuracy) and GET /ready (the prediction log's sinks).
// With API keys on, it asks for a key once, keeps it in this tab's sessionStorage and sends it in the header the
// service names (GET /openapi.json's security scheme, or a 401's WWW-Authenticate); a key never goes in a URL.
/* global document, sessionStorage, fetch, setTimeout, clearTimeout, Node */

const REFRESH_MS = 5000;
/** Request rates kept for the traffic chart: 5 minutes at one point per refresh. */
const HISTORY_POINTS = 60;
const KEY_STORAGE = 'dashboard.apiKey';
const HEADER_STORAGE = 'dashboard.apiKeyHeader';
const SVG = 'http://www.w3.org/2000/svg';

const $ = (id) => document.getElementById(id);

const state = {
  /** The header the service reads the key from (server.auth.header); known once the service says so. */
  keyHeader: sessionStorage.getItem(HEADER_STORAGE) ?? 'x-api-key',
  key: sessionStorage.getItem(KEY_STORAGE),
  timer: undefined,
  /** The previous refresh's request counts by route, and when they were read: rates are differences. */
  previous: undefined,
  history: [],
};

// ---- Talking to the service

/** A 401 (or 429) from the service: the refresh stops until the user acts. */
class Refused extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function get(path) {
  const headers = state.key ? { [state.keyHeader]: state.key } : {};
  const res = await fetch(path, { headers, cache: 'no-store' });
  if (res.status === 401 || res.status === 429) {
    const named = /header="([^"]+)"/.exec(res.headers.get('www-authenticate') ?? '');
    if (named) rememberHeader(named[1]);
    const body = await res.json().catch(() => ({}));
    const retry = res.headers.get('retry-after');
    throw new Refused(res.status, `${res.status}: ${body.message ?? res.statusText}${retry ? ` (retry in ${retry} s)` : ''}`);
  }
  return res;
}

function rememberHeader(header) {
  state.keyHeader = header;
  sessionStorage.setItem(HEADER_STORAGE, header);
}

/** The service's name, and whether it wants a key: from the OpenAPI document (public unless configured otherwise). */
async function introduce() {
  try {
    const res = await get('/openapi.json');
    if (!res.ok) return;
    const openApi = await res.json();
    const { title, version } = openApi.info ?? {};
    if (title) {
      $('service').textContent = `${title} ${version ?? ''}`.trim();
      document.title = `${title}: live dashboard`;
    }
    const scheme = openApi.components?.securitySchemes?.ApiKey;
    if (scheme?.name) rememberHeader(scheme.name);
    if (scheme && !state.key) askForKey(`This service needs an API key (sent in the ${state.keyHeader} header).`);
  } catch (error) {
    // Without the document the dashboard still works: the first data request says whether a key is needed.
    if (error instanceof Refused && error.status === 401) askForKey(`This service needs an API key. ${error.message}`);
  }
}

async function refresh() {
  clearTimeout(state.timer);
  try {
    // /monitoring first: it always needs the key, so a wrong one is found (and counted against this client) once.
    const monitoringRes = await get('/monitoring');
    const [metricsRes, readyRes] = await Promise.all([get('/metrics'), get('/ready')]);
    if (!metricsRes.ok) throw new Error(`GET /metrics answered ${metricsRes.status}`);
    if (!monitoringRes.ok) throw new Error(`GET /monitoring answered ${monitoringRes.status}`);
    const metrics = parseMetrics(await metricsRes.text());
    const report = await monitoringRes.json();
    // 503 while the model loads still carries the sinks.
    const ready = await readyRes.json();
    render(metrics, report, ready);
    $('status').textContent = `Updated ${new Date().toLocaleTimeString()} · every ${REFRESH_MS / 1000} s`;
    $('status').className = '';
  } catch (error) {
    if (error instanceof Refused) {
      if (error.status === 401) {
        askForKey(
          state.key
            ? `The API key was refused (${error.message}). Enter a valid key.`
            : `This service needs an API key (sent in the ${state.keyHeader} header). ${error.message}`,
        );
        return;
      }
      showProblem(`The service refused the request: ${error.message}`);
    } else {
      showProblem(`The service could not be read: ${error.message}`);
    }
  }
  state.timer = setTimeout(refresh, REFRESH_MS);
}

function showProblem(message) {
  $('status').textContent = message;
  $('status').className = 'problem';
}

// ---- The API key

function askForKey(message) {
  clearTimeout(state.timer);
  if (state.key) forgetKey();
  $('key-message').textContent = message;
  $('key-form').hidden = false;
  $('panels').hidden = true;
  $('status').textContent = 'Waiting for an API key';
  $('status').className = 'problem';
  $('key-input').focus();
}

function forgetKey() {
  state.key = null;
  sessionStorage.removeItem(KEY_STORAGE);
  $('forget-key').hidden = true;
}

function useKey(key) {
  state.key = key;
  sessionStorage.setItem(KEY_STORAGE, key);
  $('key-form').hidden = true;
  $('key-input').value = '';
  $('forget-key').hidden = false;
  refresh();
}

// ---- Prometheus text

/** Samples of the text exposition format: { name, labels, value } per line. */
function parseMetrics(text) {
  const samples = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels = {};
    for (const [, name, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      labels[name] = value.replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

/** The q-quantile of histogram buckets ({ le, count } cumulative, as Prometheus' histogram_quantile estimates it). */
function quantile(q, buckets) {
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const total = sorted.at(-1)?.count ?? 0;
  if (total === 0) return null;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const { le, count } of sorted) {
    if (count >= rank) {
      if (le === Infinity) return lower;
      return lower + (le - lower) * ((rank - below) / (count - below || 1));
    }
    lower = le;
    below = count;
  }
  return lower;
}

const leOf = (labels) => (labels.le === '+Inf' ? Infinity : Number(labels.le));

/** Requests, 4xx, 5xx and latency buckets per method and route, from the http_* metrics. */
function trafficByRoute(samples) {
  const routes = new Map();
  const entry = ({ method, route }) => {
    const key = `${method} ${route}`;
    if (!routes.has(key)) routes.set(key, { key, method, route, requests: 0, clientErrors: 0, serverErrors: 0, buckets: new Map() });
    return routes.get(key);
  };
  for (const { name, labels, value } of samples) {
    if (name === 'http_requests_total') {
      const row = entry(labels);
      row.requests += value;
      if (labels.status?.startsWith('4')) row.clientErrors += value;
      if (labels.status?.startsWith('5')) row.serverErrors += value;
    } else if (name === 'http_request_duration_seconds_bucket') {
      const { buckets } = entry(labels);
      const le = leOf(labels);
      buckets.set(le, (buckets.get(le) ?? 0) + value);
    }
  }
  return [...routes.values()]
    .map((row) => {
      const buckets = [...row.buckets].map(([le, count]) => ({ le, count }));
      return { ...row, buckets, p50: quantile(0.5, buckets), p95: quantile(0.95, buckets) };
    })
    .sort((a, b) => b.requests - a.requests);
}

/** Adds histogram buckets of several series (same le values) together. */
function mergeBuckets(rows) {
  const merged = new Map();
  for (const { buckets } of rows) for (const { le, count } of buckets) merged.set(le, (merged.get(le) ?? 0) + count);
  return [...merged].map(([le, count]) => ({ le, count }));
}

// ---- Drawing

function element(tag, attributes = {}, text) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

function svgElement(tag, attributes = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

const formatShare = (share) => `${(share * 100).toFixed(1)} %`;
const formatCount = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en') : '—');
const formatSeconds = (seconds) =>
  seconds === null || seconds === undefined ? '—' : seconds < 1 ? `${(seconds * 1000).toFixed(1)} ms` : `${seconds.toFixed(2)} s`;
const formatMetric = (value) => (value === null || value === undefined ? '—' : value.toFixed(3));

/**
 * A bar chart as SVG: a group of bars per label, one bar per series (series: { name, className, values }). The
 * numbers are in each bar's tooltip and the legend.
 */
function barChart(labels, series, { format = String, width = 560, height = 200, label = '' } = {}) {
  const margin = { top: 10, right: 10, bottom: 46, left: 44 };
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const max = Math.max(...series.flatMap(({ values }) => values), 0) || 1;
  const svg = svgElement('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': label });
  const slot = plotWidth / Math.max(labels.length, 1);
  const bar = (slot * 0.8) / Math.max(series.length, 1);
  const y = (value) => margin.top + plotHeight - (value / max) * plotHeight;
  for (const tick of [0, 0.5, 1]) {
    svg.append(svgElement('line', { x1: margin.left, x2: width - margin.right, y1: y(max * tick), y2: y(max * tick), class: 'grid' }));
    svg.append(svgElement('text', { x: margin.left - 4, y: y(max * tick) + 4, class: 'axis', 'text-anchor': 'end' }, format(max * tick)));
  }
  labels.forEach((name, i) => {
    const x = margin.left + i * slot + slot * 0.1;
    series.forEach(({ name: seriesName, className, values }, s) => {
      const value = values[i] ?? 0;
      const rect = svgElement('rect', {
        x: x + s * bar,
        y: y(value),
        width: Math.max(bar - 1, 1),
        height: Math.max(margin.top + plotHeight - y(value), 0),
        class: className,
      });
      rect.append(svgElement('title', {}, `${name}: ${seriesName} ${format(value)}`));
      svg.append(rect);
    });
    const short = name.length > 14 ? `${name.slice(0, 13)}…` : name;
    const labelText = svgElement(
      'text',
      { x: x + slot * 0.4, y: height - margin.bottom + 14, class: 'axis', 'text-anchor': 'middle' },
      short,
    );
    if (labels.length > 6) {
      labelText.setAttribute('transform', `rotate(-30 ${x + slot * 0.4} ${height - margin.bottom + 14})`);
      labelText.setAttribute('text-anchor', 'end');
    }
    svg.append(labelText);
  });
  return svg;
}

/** A line over the last refreshes (values: numbers in time order). */
function lineChart(values, { width = 1100, height = 140, format = String, label = '' } = {}) {
  const margin = { top: 10, right: 10, bottom: 10, left: 44 };
  const max = Math.max(...values, 0) || 1;
  const svg = svgElement('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': label });
  const x = (i) => margin.left + (i / Math.max(HISTORY_POINTS - 1, 1)) * (width - margin.left - margin.right);
  const y = (value) => margin.top + (1 - value / max) * (height - margin.top - margin.bottom);
  for (const tick of [0, 1]) {
    svg.append(svgElement('line', { x1: margin.left, x2: width - margin.right, y1: y(max * tick), y2: y(max * tick), class: 'grid' }));
    svg.append(svgElement('text', { x: margin.left - 4, y: y(max * tick) + 4, class: 'axis', 'text-anchor': 'end' }, format(max * tick)));
  }
  const offset = HISTORY_POINTS - values.length;
  const points = values.map((value, i) => `${x(offset + i)},${y(value)}`).join(' ');
  svg.append(svgElement('polyline', { points, class: 'line' }));
  for (const [i, value] of values.entries()) {
    const dot = svgElement('circle', { cx: x(offset + i), cy: y(value), r: 2.5, class: 'dot' });
    dot.append(svgElement('title', {}, format(value)));
    svg.append(dot);
  }
  return svg;
}

function tile(name, value, { problem = false, id } = {}) {
  const box = element('div', { class: problem ? 'tile problem' : 'tile', ...(id ? { 'data-tile': id } : {}) });
  box.append(element('span', { class: 'tile-value' }, value), element('span', { class: 'tile-name' }, name));
  return box;
}

function fillTable(table, rows) {
  const body = table.tBodies[0];
  body.replaceChildren(
    ...rows.map(({ cells, attributes = {} }) => {
      const tr = element('tr', attributes);
      for (const cell of cells) tr.append(cell instanceof Node ? wrapCell(cell) : element('td', {}, String(cell)));
      return tr;
    }),
  );
}

function wrapCell(node) {
  const td = element('td');
  td.append(node);
  return td;
}

// ---- The panels

function render(samples, report, ready) {
  $('panels').hidden = false;
  renderModels(report);
  renderTraffic(samples);
  renderPredictions(samples);
  renderLive(report.live);
  renderSinks(ready.prediction_log?.sinks ?? {});
  renderDrift(report.drift);
}

/** The live model (report.model) and, when the service runs one, the shadow model and their agreement. */
function renderModels(report) {
  const list = $('model-list');
  const card = (role, fields) => {
    const box = element('div', { class: 'model', 'data-model': role });
    box.append(element('h3', {}, role));
    const dl = element('dl');
    for (const [name, value] of fields) dl.append(element('dt', {}, name), element('dd', {}, value));
    box.append(dl);
    return box;
  };
  const cards = [];
  const live = report.model;
  cards.push(
    live
      ? card('live', [
          ['version', live.version],
          ['uuid', live.uuid],
          ['trained', live.created_at],
        ])
      : card('live', [['status', 'loading']]),
  );
  // The shadow model and its agreement with the live one, in whatever fields the service reports them: top-level
  // fields named shadow or agreement, or the entries of a `models` object other than the live one.
  const isObject = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);
  const others = Object.entries(report).filter(([name, value]) => /shadow|agreement/i.test(name) && value !== null);
  if (isObject(report.models)) others.push(...Object.entries(report.models).filter(([name, value]) => name !== 'live' && isObject(value)));
  for (const [name, value] of others) {
    if (name === 'shadow' && isObject(value) && isObject(value.model)) cards.push(card(name, shadowFields(value)));
    else cards.push(card(name, isObject(value) ? flatten(value) : [[name, String(value)]]));
  }
  list.replaceChildren(...cards);
}

/** The samples' values summed by a key, in the order the keys first appear. */
function sumBy(samples, keyOf) {
  const sums = new Map();
  for (const sample of samples) sums.set(keyOf(sample), (sums.get(keyOf(sample)) ?? 0) + sample.value);
  return sums;
}

/** GET /monitoring's shadow: the candidate, how it agrees with the live model, and what it costs. */
function shadowFields(shadow) {
  const number = (value, digits = 4) => (typeof value === 'number' ? value.toFixed(digits) : '—');
  const fields = [
    ['version', shadow.model?.version ?? '—'],
    ['status', shadow.status],
    ['since', shadow.since ?? '—'],
    ['rows compared', formatCount(shadow.rows ?? 0)],
  ];
  if ('agreement' in shadow) fields.push(['agreement', shadow.agreement === null ? '—' : `${(shadow.agreement * 100).toFixed(1)} %`]);
  if ('mean_probability_difference' in shadow) fields.push(['mean probability difference', number(shadow.mean_probability_difference)]);
  if ('mean_absolute_difference' in shadow) fields.push(['mean absolute difference', number(shadow.mean_absolute_difference)]);
  const latency = shadow.latency_ms ?? {};
  fields.push(
    ['latency live / shadow', `${number(latency.live, 3)} / ${number(latency.shadow, 3)} ms`],
    ['queue', shadow.queue ? `${shadow.queue.size} / ${shadow.queue.capacity}` : '—'],
    ['shed / failed requests', `${formatCount(shadow.shed_requests ?? 0)} / ${formatCount(shadow.failed_requests ?? 0)}`],
  );
  return fields;
}

/** Scalar fields of an object, nested ones named with dots. */
function flatten(object, prefix = '') {
  return Object.entries(object).flatMap(([name, value]) => {
    const path = prefix ? `${prefix}.${name}` : name;
    if (value !== null && typeof value === 'object') return Array.isArray(value) ? [[path, value.join(', ')]] : flatten(value, path);
    return [[path, typeof value === 'number' && !Number.isInteger(value) ? value.toFixed(4) : String(value)]];
  });
}

function renderTraffic(samples) {
  const now = Date.now();
  const routes = trafficByRoute(samples);
  const previous = state.previous;
  const seconds = previous ? (now - previous.at) / 1000 : 0;
  const rate = (row) => (previous && seconds > 0 ? Math.max(row.requests - (previous.counts.get(row.key) ?? 0), 0) / seconds : null);
  const api = routes.filter((row) => row.method === 'POST');
  const apiRate = previous && seconds > 0 ? api.reduce((sum, row) => sum + rate(row), 0) : null;
  if (apiRate !== null) state.history = [...state.history, apiRate].slice(-HISTORY_POINTS);
  state.previous = { at: now, counts: new Map(routes.map((row) => [row.key, row.requests])) };

  const total = (rows, field) => rows.reduce((sum, row) => sum + row[field], 0);
  const serverErrors = total(api, 'serverErrors');
  const latency = mergeBuckets(api);
  $('traffic-tiles').replaceChildren(
    tile('API requests (POST)', formatCount(total(api, 'requests')), { id: 'api-requests' }),
    tile('API requests per second', apiRate === null ? '—' : apiRate.toFixed(2), { id: 'api-rate' }),
    tile('rejected (4xx)', formatCount(total(api, 'clientErrors')), { id: 'api-4xx' }),
    tile('errors (5xx)', formatCount(serverErrors), { id: 'api-5xx', problem: serverErrors > 0 }),
    tile('p50 latency', formatSeconds(quantile(0.5, latency)), { id: 'api-p50' }),
    tile('p95 latency', formatSeconds(quantile(0.95, latency)), { id: 'api-p95' }),
  );
  $('traffic-chart').replaceChildren(lineChart(state.history, { format: (v) => v.toFixed(1), label: 'API requests per second' }));
  fillTable(
    $('route-table'),
    routes.map((row) => ({
      attributes: { 'data-route': row.key },
      cells: [
        row.key,
        formatCount(row.requests),
        rate(row) === null ? '—' : rate(row).toFixed(2),
        formatCount(row.clientErrors),
        formatCount(row.serverErrors),
        formatSeconds(row.p50),
        formatSeconds(row.p95),
      ],
    })),
  );
}

/** Classification: predictions per class (ml_predictions_total); regression: the ml_prediction_value histogram. */
function renderPredictions(samples) {
  // Summed over model_version: each model the service has served since it started has series of its own.
  const byClass = sumBy(
    samples.filter((sample) => sample.name === 'ml_predictions_total'),
    (sample) => sample.labels.class,
  );
  const chart = $('prediction-chart');
  if (byClass.size) {
    const classes = [...byClass.keys()];
    const counts = [...byClass.values()];
    const total = counts.reduce((sum, n) => sum + n, 0);
    $('prediction-summary').textContent = `${formatCount(total)} predictions since the service started, by predicted class`;
    chart.replaceChildren(
      barChart(classes, [{ name: 'predictions', className: 'live', values: counts }], {
        format: formatCount,
        width: 400,
        label: 'Predictions per class',
      }),
    );
    return;
  }
  const buckets = [
    ...sumBy(
      samples.filter((sample) => sample.name === 'ml_prediction_value_bucket'),
      (sample) => leOf(sample.labels),
    ),
  ]
    .map(([le, count]) => ({ le, count }))
    .sort((a, b) => a.le - b.le);
  if (!buckets.length) {
    $('prediction-summary').textContent = 'No prediction metrics yet';
    chart.replaceChildren();
    return;
  }
  const labels = buckets.map(({ le }, i) => (le === Infinity ? `> ${buckets[i - 1]?.le ?? '−∞'}` : `≤ ${le}`));
  const counts = buckets.map(({ count }, i) => count - (buckets[i - 1]?.count ?? 0));
  // Only the buckets from the first to the last with a prediction: the configured ones span many decades.
  const first = Math.max(
    counts.findIndex((n) => n > 0),
    0,
  );
  const last = Math.max(
    counts.findLastIndex((n) => n > 0),
    first,
  );
  $('prediction-summary').textContent = `${formatCount(buckets.at(-1).count)} predicted values since the service started, by bucket`;
  chart.replaceChildren(
    barChart(labels.slice(first, last + 1), [{ name: 'predictions', className: 'live', values: counts.slice(first, last + 1) }], {
      format: formatCount,
      width: 400,
      label: 'Predicted values',
    }),
  );
}

function renderLive(live) {
  const tiles = Object.entries(live.metrics).map(([metric, value]) => {
    const bound = live.thresholds[metric];
    const limit = bound?.min !== undefined ? ` (min ${bound.min})` : bound?.max !== undefined ? ` (max ${bound.max})` : '';
    return tile(`live ${metric}${limit}`, formatMetric(value), { id: `live-${metric}`, problem: live.breached.includes(metric) });
  });
  tiles.push(tile('labels in the window', `${formatCount(live.window.labels)} / ${formatCount(live.window.size)}`, { id: 'live-labels' }));
  $('live-tiles').replaceChildren(...tiles);
  const { joined, unknown_id, already_labelled, lookup_failed } = live.received;
  const below = live.window.labels < live.window.min_labels ? ` Metrics appear from ${live.window.min_labels} labels.` : '';
  $('live-summary').textContent =
    `Feedback received: ${joined} joined, ${unknown_id} unknown id, ${already_labelled} already labelled, ${lookup_failed} lookup failed.` +
    below;
}

function renderSinks(sinks) {
  const rows = Object.entries(sinks).map(([name, stats]) => {
    const failing = stats.failed_sends > 0 || stats.dropped > 0;
    const health = element('span', { class: failing ? 'badge problem' : 'badge ok' }, failing ? 'errors' : 'ok');
    if (stats.last_error) health.title = stats.last_error;
    return {
      attributes: { 'data-sink': name },
      cells: [name, health, stats.sent, stats.queued, stats.in_flight, stats.retried, stats.dropped, stats.failed_sends].map((cell) =>
        typeof cell === 'number' ? formatCount(cell) : cell,
      ),
    };
  });
  fillTable($('sink-table'), rows.length ? rows : [{ cells: ['none (prediction_log.sinks is empty)', '', '', '', '', '', '', ''] }]);
}

function renderDrift(drift) {
  const { window, psi_threshold: threshold } = drift;
  const status = {
    ok: `PSI over the last ${formatCount(window.rows)} rows against the training rows; above ${threshold} counts as drift.`,
    insufficient_data: `${formatCount(window.rows)} of ${formatCount(window.min_rows)} rows needed before PSI is scored; the histograms fill in already.`,
    unavailable: `Drift is not monitored: ${drift.reason ?? 'no reference statistics'}.`,
  }[drift.status];
  const drifted = drift.drifted_features.length ? ` Drifted: ${drift.drifted_features.join(', ')}.` : '';
  $('drift-summary').textContent = status + drifted;
  $('drift-features').replaceChildren(
    ...Object.entries(drift.features).map(([name, feature]) => {
      const card = element('article', { class: feature.drifted ? 'feature drifted' : 'feature', 'data-feature': name });
      const heading = element('h3', {}, name);
      const [badge, verdict] =
        feature.psi === null ? ['badge', 'not scored yet'] : feature.drifted ? ['badge problem', 'drifted'] : ['badge ok', 'stable'];
      heading.append(
        element('span', { class: 'psi', 'data-psi': name }, `PSI ${formatMetric(feature.psi)}`),
        element('span', { class: badge }, verdict),
      );
      card.append(heading);
      const { buckets, reference, live } = feature.histogram;
      card.append(
        barChart(
          buckets,
          [
            { name: 'training', className: 'reference', values: reference },
            { name: 'live', className: 'live', values: live },
          ],
          { format: formatShare, width: 420, height: 190, label: `${name}: live histogram over the training one` },
        ),
      );
      const legend = element('p', { class: 'legend' });
      legend.append(element('span', { class: 'key reference' }, 'training'), element('span', { class: 'key live' }, 'live window'));
      card.append(legend);
      return card;
    }),
  );
}

// ---- Start

$('key-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const key = $('key-input').value.trim();
  if (key) useKey(key);
});
$('forget-key').addEventListener('click', () => askForKey('The key is forgotten. Enter one to go on.'));
$('forget-key').hidden = !state.key;

await introduce();
if ($('key-form').hidden) refresh();
