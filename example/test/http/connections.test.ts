// The server's connection defences (src/http/connections.ts) on a real server and raw sockets: a flood of slow
// and idle clients stays within server.max_connections and does not lock out /health; slow request heads get a
// JSON 408; requests node's parser refuses get JSON; kept-alive connections are bounded so load rebalances.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Agent, request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { MAX_REQUESTS_PER_CONNECTION } from '../../src/http/connections.js';
import { startServer, type RunningServer } from '../../src/http/startServer.js';
import type { Spec } from '../../src/contract/index.js';
import { until } from '../support/predictionLoad.js';
import { withServer } from '../support/serving.js';
import { trainedProject, type TrainedProject } from '../support/trainedModel.js';

/** A raw TCP client: what it received, and whether the server closed it. */
interface RawClient {
  socket: Socket;
  received: () => string;
  closed: Promise<void>;
  isClosed: () => boolean;
}

async function rawClient(url: string, send?: string): Promise<RawClient> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  socket.on('error', () => {}); // a connection the server closes may be reset
  let text = '';
  let isClosed = false;
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  const closed = once(socket, 'close').then(() => {
    isClosed = true;
  });
  await once(socket, 'connect');
  if (send !== undefined) socket.write(send);
  return { socket, received: () => text, closed, isClosed: () => isClosed };
}

/** The status and parsed JSON body of the one raw HTTP answer in `text`. */
function parseAnswer(text: string): { status: number; headers: string; body: unknown } {
  const end = text.indexOf('\r\n\r\n');
  assert.ok(end > 0, `no HTTP answer in ${JSON.stringify(text)}`);
  const head = text.slice(0, end);
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]), headers: head.toLowerCase(), body: JSON.parse(text.slice(end + 4)) };
}

describe('connections', () => {
  let project: TrainedProject;
  let running: RunningServer | undefined;
  const clients: RawClient[] = [];

  before(async () => {
    project = await trainedProject();
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) client.socket.destroy();
    await running?.close();
    running = undefined;
  });

  const start = async (settings: Parameters<typeof withServer>[1] = {}) => {
    const spec: Spec = withServer(project.spec, settings);
    running = await startServer(spec, project.modelDir, { host: '127.0.0.1', port: 0 }, { apiKeys: [] });
    await running.ready;
    return running;
  };
  const openConnections = () =>
    new Promise<number>((resolve, reject) => running!.server.getConnections((e, n) => (e ? reject(e) : resolve(n))));

  it('stays within server.max_connections under a flood of slow and idle clients, and /health still answers', async () => {
    const max = 32;
    const { url, connections } = await start({ max_connections: max });
    // Half the connections idle after a request (kept alive), half sending a request head that never ends.
    for (let i = 0; i < max / 2; i++) {
      const client = await rawClient(url, 'GET /health HTTP/1.1\r\nhost: test\r\n\r\n');
      clients.push(client);
      await until('the answer', client.received, (text) => text.includes('"status"'));
    }
    for (let i = 0; i < max / 2; i++) clients.push(await rawClient(url, 'GET /health HTTP/1.1\r\nhost: test\r\nx-slow: '));
    await until(
      'every connection open',
      () => connections.size,
      (size) => size === max,
    );
    // Twice as many again, sending nothing at all: without a cap each would hold a socket (the fd limit, then
    // every request reset); with a plain cap (net's maxConnections) each newcomer would be refused instead.
    for (let i = 0; i < max * 2; i++) clients.push(await rawClient(url));
    await until(
      'the flood accepted',
      () => connections.evicted + connections.refused,
      (count) => count >= max * 2,
    );

    const health = await rawClient(url, 'GET /health HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n');
    clients.push(health);
    await health.closed;
    assert.equal(parseAnswer(health.received()).status, 200);
    assert.ok((await openConnections()) <= max, `${await openConnections()} connections open, max_connections ${max}`);
    assert.equal(connections.refused, 0, 'a connection was free to close every time');
    // The idle ones went first (oldest first), then those that sent no complete head.
    await until('the idle clients closed', () => clients.slice(0, max / 2).every((client) => client.isClosed()), Boolean);
    assert.ok(clients.filter((client) => client.isClosed()).length >= max * 2, 'the connections closed to make room');
  });

  it('answers a request head that does not arrive within the header timeout with a JSON 408, and closes', async () => {
    const { url, server } = await start({ request_timeout_ms: 1_500 });
    assert.equal(server.headersTimeout, 1_500);
    assert.equal(server.keepAliveTimeout, 5_000);
    const slow = await rawClient(url, 'POST /predict HTTP/1.1\r\nhost: test\r\n');
    clients.push(slow);
    await slow.closed; // the timeouts are checked every second: closed within about 2.5 s
    const answer = parseAnswer(slow.received());
    assert.equal(answer.status, 408);
    assert.equal((answer.body as { error: string }).error, 'request_timeout');
  });

  it("answers requests node's HTTP parser refuses with JSON errors", async () => {
    const { url } = await start();
    const cases: [string, number, string][] = [
      [
        'POST /predict HTTP/1.1\r\nhost: t\r\ncontent-type: application/json\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\n{}',
        400,
        'bad_request',
      ],
      [
        'POST /predict HTTP/1.1\r\nhost: t\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n',
        400,
        'bad_request',
      ],
      [`GET /health HTTP/1.1\r\nhost: t\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, 'headers_too_large'],
      ['NOT-A-METHOD / HTTP/1.1\r\n\r\n', 400, 'bad_request'],
    ];
    for (const [raw, status, error] of cases) {
      const client = await rawClient(url, raw);
      clients.push(client);
      await client.closed;
      const answer = parseAnswer(client.received());
      assert.equal(answer.status, status, raw.slice(0, 60));
      assert.match(answer.headers, /content-type: application\/json/);
      assert.equal((answer.body as { error: string }).error, error);
      assert.match((answer.body as { message: string }).message, /\w/);
    }
  });

  it(`closes a kept-alive connection after ${MAX_REQUESTS_PER_CONNECTION} requests, so a restarted worker gets load again`, async () => {
    const { url, server } = await start();
    assert.equal(server.maxRequestsPerSocket, MAX_REQUESTS_PER_CONNECTION);
    // One kept-alive connection at a time: the last request it may carry is answered with connection: close, and
    // the next request goes on a new connection (the one a load balancer or the kernel may send elsewhere).
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const sockets = new Set<unknown>();
    const connectionHeaders: (string | undefined)[] = [];
    try {
      for (let i = 0; i <= MAX_REQUESTS_PER_CONNECTION; i++) {
        await new Promise<void>((resolve, reject) => {
          const req = httpRequest(`${url}/health`, { agent }, (res) => {
            sockets.add(res.socket);
            connectionHeaders.push(res.headers.connection);
            res.resume();
            res.on('end', resolve);
          });
          req.on('error', reject);
          req.end();
        });
      }
    } finally {
      agent.destroy();
    }
    assert.deepEqual(connectionHeaders.slice(MAX_REQUESTS_PER_CONNECTION - 2), ['keep-alive', 'close', 'keep-alive']);
    assert.equal(sockets.size, 2, 'the request after the last went on a new connection');
  });
});
