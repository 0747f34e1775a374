// What the tests of the network sinks (fluentd, mongodb) share: the hooks around each test (a trained project,
// a fresh wire-level test server, the service under test closed after it), quick-retry settings, an outage of
// the test server under load, and the guard of the tests that run against a real server.
import assert from 'node:assert/strict';
import type { RunningServer } from '../../src/http/startServer.js';
import type { SinkCounts } from '../../src/predictionLog/queue.js';
import { keepPredicting, type LoadResult, sleep, until } from './predictionLoad.js';
import { trainedProject, type TrainedProject } from './trainedModel.js';
import type { TcpTestServer } from './tcpTestServer.js';

export interface SinkTestSetup<Double extends TcpTestServer> {
  project: TrainedProject;
  /** The test server the sink sends to, new for each test. */
  testServer: Double;
  /** The service under test, when a test started one: closed after the test. */
  running: RunningServer | undefined;
}

/** Registers the hooks (call it inside describe) and returns what they set up, valid inside the tests. */
export function sinkTestSetup<Double extends TcpTestServer>(startTestServer: () => Promise<Double>): SinkTestSetup<Double> {
  const setup = { running: undefined } as SinkTestSetup<Double>;
  before(async () => {
    setup.project = await trainedProject();
  });
  beforeEach(async () => {
    setup.testServer = await startTestServer();
  });
  afterEach(async () => {
    await setup.running?.close();
    setup.running = undefined;
    await setup.testServer.stop();
  });
  return setup;
}

/** A prediction_log section with quick retries and short timeouts, so a test outage of a few seconds is a long one for the sink. */
export function quickRetries(sink: 'fluentd' | 'mongodb', section: Record<string, unknown>) {
  return { sinks: [sink], flush_interval_ms: 20, retry_initial_ms: 20, retry_max_ms: 200, [sink]: { timeout_ms: 500 }, ...section };
}

/**
 * Keeps predicting against `running` while the test server goes down for 3 s and comes back; checks that the
 * service answered all along and that records flow again. Returns the load and the sink's counts once drained.
 */
export async function outageUnderLoad<Double extends TcpTestServer>(
  { project, testServer, running }: SinkTestSetup<Double>,
  what: string,
  delivered: () => number,
  sinkCounts: () => SinkCounts,
): Promise<{ result: LoadResult; counts: SinkCounts }> {
  const load = keepPredicting(running!.url, project.spec, 'outage');
  let result: LoadResult;
  try {
    await until(`records flowing to ${what}`, delivered, (count) => count > 50);
    await testServer.stop();
    const answeredAtStop = load.answered();
    await sleep(3_000); // the outage
    await until('failed sends during the outage', sinkCounts, (counts) => counts.failed_sends > 0);
    const answeredDuringOutage = load.answered() - answeredAtStop;
    assert.ok(answeredDuringOutage > 100, `only ${answeredDuringOutage} predictions during the outage`);
    const deliveredAtRestart = delivered();
    await testServer.restart();
    await until('records flowing again', delivered, (count) => count > deliveredAtRestart);
  } finally {
    result = await load.stop(); // also when a step above fails, or the load would go on for ever
  }
  assert.deepEqual(Object.keys(result.statuses), ['200'], `statuses ${JSON.stringify(result.statuses)}`);
  const counts = await until('the queue to drain', sinkCounts, (c) => c.sent === result.ids.length);
  return { result, counts };
}

/** A before() hook for the tests against a real server: skips them, saying what to set, unless `variable` is set. */
export function skipUnlessSet(variable: string, hint: string) {
  return function (this: Mocha.Context) {
    if (!process.env[variable]) {
      console.log(`      skipped: no ${variable} ${hint}; deploy/logging/docker-compose.yml starts one`);
      this.skip();
    }
  };
}
