// The node:http server's defences against slow and idle clients, which cost a socket (and memory) each without
// costing the client anything: at most server.max_connections open connections, tight header and keep-alive
// timeouts, a bounded number of requests per kept-alive connection, and JSON answers to requests node's own
// parser refuses.
//
// At the limit a new connection is not simply refused (that is what starves /health and the kubelet's probes
// under a flood of slow connections): the connection that least deserves its place is closed instead: the oldest
// idle kept-alive one, else the one that has waited longest without sending a whole request head, else, past a
// short grace, one whose body is still trickling in. Only when every connection is busy being answered is the new
// one closed, and those free up within server.request_timeout_ms.
import { STATUS_CODES, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Config } from '../contract/index.js';

/** A request head (request line and headers) must arrive within this, whatever server.request_timeout_ms says. */
export const HEADERS_TIMEOUT_MS = 10_000;
/** How often node checks the header and request timeouts (its default is 30 s, which lets slow clients pile up). */
export const TIMEOUT_CHECK_INTERVAL_MS = 1_000;
/**
 * How long an idle kept-alive connection stays open. Node's default; shorter than the keep-alive timeouts of
 * proxies in front (nginx's 60 s upstream default is on their side, so they close first and never race us).
 */
export const KEEP_ALIVE_TIMEOUT_MS = 5_000;
/**
 * Requests per kept-alive connection; the answer to the last says `connection: close`. Without a bound, a client
 * keeps its connections to the cluster worker (or pod) it first reached, and a worker restarted after a crash gets
 * no traffic until clients reconnect; with it, every client reconnects now and then and the load rebalances.
 */
export const MAX_REQUESTS_PER_CONNECTION = 1_000;
/** A body still arriving after this long may be cut off to make room for a new connection at the limit. */
const BODY_GRACE_MS = 1_000;

/** The node:http server options for this config: headers and body within the request timeout, headers within 10 s. */
export function serverOptions(config: Config): ServerOptions {
  const requestTimeout = config.server.request_timeout_ms;
  return {
    requestTimeout,
    headersTimeout: Math.min(requestTimeout, HEADERS_TIMEOUT_MS),
    connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
  };
}

/** One open connection: its requests in flight and the request whose body may still be arriving. */
interface Connection {
  openedAt: number;
  requests: number;
  inFlight: number;
  /** The last request, while its body may still be arriving (req.complete tells). */
  request: IncomingMessage | undefined;
  requestAt: number;
}

/**
 * Guards a node:http server's connections: applies the timeouts above (those the constructor options do not take),
 * caps the open connections at server.max_connections as described at the top, and answers parser errors with JSON.
 */
export class ConnectionGuard {
  /** Open connections, oldest first (a Map keeps insertion order). */
  private readonly connections = new Map<Socket, Connection>();
  /** Connections closed to make room for newer ones, and new ones refused because every connection was busy. */
  evicted = 0;
  refused = 0;

  constructor(
    server: Server,
    private readonly maxConnections: number,
  ) {
    server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
    server.maxRequestsPerSocket = MAX_REQUESTS_PER_CONNECTION;
    server.on('connection', (socket: Socket) => this.admit(socket));
    // Before the service's own listener, which may answer at once.
    server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => this.started(req, res));
    server.on('clientError', answerClientError);
  }

  /** Open connections. */
  get size(): number {
    return this.connections.size;
  }

  private admit(socket: Socket): void {
    if (this.connections.size >= this.maxConnections) {
      const victim = this.leastNeeded();
      if (!victim) {
        this.refused += 1;
        socket.destroy();
        return;
      }
      this.evicted += 1;
      this.connections.delete(victim);
      victim.destroy();
    }
    this.connections.set(socket, { openedAt: performance.now(), requests: 0, inFlight: 0, request: undefined, requestAt: 0 });
    socket.once('close', () => this.connections.delete(socket));
  }

  private started(req: IncomingMessage, res: ServerResponse): void {
    const connection = this.connections.get(req.socket);
    if (!connection) return;
    connection.requests += 1;
    connection.inFlight += 1;
    connection.request = req;
    connection.requestAt = performance.now();
    let done = false;
    const finished = () => {
      if (done) return;
      done = true;
      connection.inFlight -= 1;
      if (connection.request === req) connection.request = undefined;
    };
    res.once('finish', finished);
    res.once('close', finished);
  }

  /** The connection to close for a new one: oldest idle, else oldest without a request head, else a trickling body. */
  private leastNeeded(): Socket | undefined {
    let waitingForHead: Socket | undefined;
    let tricklingBody: Socket | undefined;
    const now = performance.now();
    for (const [socket, connection] of this.connections) {
      if (connection.inFlight === 0) {
        if (connection.requests > 0) return socket; // idle between requests: the cheapest to lose
        waitingForHead ??= socket; // a head that never completes also counts as "waiting" here
      } else if (
        tricklingBody === undefined &&
        connection.request !== undefined &&
        !connection.request.complete &&
        now - connection.requestAt > BODY_GRACE_MS
      ) {
        tricklingBody = socket;
      }
    }
    return waitingForHead ?? tricklingBody;
  }
}

/** What node's parser refused, as a status and a JSON error like every other answer of the service. */
function clientErrorAnswer(error: NodeJS.ErrnoException & { reason?: unknown }): { status: number; error: string; message: string } {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, error: 'headers_too_large', message: 'The request headers are larger than the server accepts' };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { status: 413, error: 'payload_too_large', message: 'The chunk extensions are larger than the server accepts' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return {
        status: 408,
        error: 'request_timeout',
        message: 'The request did not arrive in time (server.request_timeout_ms; headers within 10 s)',
      };
    default: {
      const reason = typeof error.reason === 'string' && error.reason ? `: ${error.reason}` : '';
      return { status: 400, error: 'bad_request', message: `The request is not valid HTTP/1.1${reason}` };
    }
  }
}

/**
 * Replaces node's default answer to a request its parser refuses (duplicate Content-Length, bad chunking, headers
 * too large, too slow), an empty-bodied 400/408/431, with the same status and a JSON body. Like node, it answers
 * only when nothing of another answer has been written on the connection, and then closes the connection.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (error.code !== 'ECONNRESET' && socket.writable && !inFlight?.headersSent) {
    const { status, ...answer } = clientErrorAnswer(error);
    const body = JSON.stringify(answer);
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
        'content-type: application/json; charset=utf-8\r\n' +
        `content-length: ${Buffer.byteLength(body)}\r\n` +
        'x-content-type-options: nosniff\r\n' +
        'connection: close\r\n\r\n' +
        body,
    );
  }
  socket.destroy();
}
