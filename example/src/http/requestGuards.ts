// What every request goes through before a route runs, the same whether the fast path or Express dispatches it:
// the request id, helmet's security headers, API keys, the rate limit, the request timeout, and the JSON answers
// themselves (errors included). Everything that can be computed once is computed here once.
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet from 'helmet';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { EnvironmentError } from '../contract/environment.js';
import type { ServiceMetrics } from '../monitoring/metrics.js';
import type { JsonText } from '../runtime/wireFormat.js';
import type { Config } from '../contract/index.js';
import { isOpenInferencePath, openInferenceError } from './openInference/protocol.js';

/** One request from its arrival to its answer. */
export class Exchange {
  /** The prediction log's latency_ms and the request duration metric count from here. */
  readonly startedAt = performance.now();
  timer: NodeJS.Timeout | undefined = undefined;
  /** The caller sent a valid API key (set by RequestGuards.admit). */
  authenticated = false;
  /** The route table's route serving the request, once it is known: send() counts the answer under it. */
  route: { method: string; path: string } | undefined = undefined;
  /** The answer is counted in the request metrics (once per request). */
  counted = false;
  /** The route's path parameters ({model_name}), once the route is known. */
  params: Readonly<Record<string, string | undefined>> = {};
  constructor(readonly requestId: string) {}
}

export interface JsonError {
  error: string;
  message: string;
  [extra: string]: unknown;
}

const EXCHANGE = Symbol('exchange');
const JSON_TYPE = 'application/json; charset=utf-8';
type TrackedResponse = ServerResponse & { [EXCHANGE]?: Exchange };

/** The exchange that RequestGuards.begin opened for this response. */
export function exchangeOf(res: ServerResponse): Exchange | undefined {
  return (res as TrackedResponse)[EXCHANGE];
}

/** A caller's X-Request-Id is echoed only when it is a plain token; anything else gets a fresh id. */
const REQUEST_ID = /^[\x21-\x7e]{1,200}$/;

/** helmet's headers, taken once from helmet itself: they do not depend on the request. */
function helmetHeaders(): [string, string][] {
  const headers: [string, string][] = [];
  const recorder = {
    setHeader: (name: string, value: string) => headers.push([name, value]),
    removeHeader: () => {},
  };
  // The service speaks plain HTTP (TLS ends at the ingress), so no upgrade of its own asset requests to https.
  const middleware = helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } });
  middleware({} as IncomingMessage, recorder as unknown as ServerResponse, () => {});
  return headers;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest();

/** API keys kept as digests and compared in constant time, so neither timing nor length tells how close a guess was. */
class ApiKeys {
  private readonly digests: Buffer[];

  constructor(keys: readonly string[]) {
    this.digests = keys.map(sha256);
  }

  /** The index of the matching key, or -1. Every key is compared, whichever matches. */
  match(presented: string): number {
    const digest = sha256(presented);
    let found = -1;
    this.digests.forEach((key, i) => {
      if (timingSafeEqual(digest, key) && found < 0) found = i;
    });
    return found;
  }
}

/**
 * Wrong API keys per client address (as the service sees it: behind an ingress, the ingress's). Past the limit the
 * address gets 429 on every request that needs or carries a key until the window ends, a valid key included, so
 * guessing cannot go on at full speed; requests without a key to public paths (the probes) are unaffected.
 */
class FailedKeyAttempts {
  private readonly limiter: RateLimiterMemory;
  /** Addresses over the limit and until when (ms); checked synchronously so valid keys cost no extra promise. */
  private readonly blockedUntil = new Map<string, number>();

  constructor(limit: number, windowSeconds: number) {
    this.limiter = new RateLimiterMemory({ points: limit, duration: windowSeconds });
  }

  /** The seconds the address must still wait, or 0. */
  retryAfter(address: string): number {
    const until = this.blockedUntil.get(address);
    if (until === undefined) return 0;
    const left = until - Date.now();
    if (left > 0) return Math.ceil(left / 1000);
    this.blockedUntil.delete(address);
    return 0;
  }

  /** Counts one wrong key; resolves to the seconds to wait when it went over the limit, else 0. */
  async record(address: string): Promise<number> {
    try {
      await this.limiter.consume(address);
      return 0;
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      const seconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      const now = Date.now();
      if (this.blockedUntil.size >= 10_000) {
        for (const [blocked, until] of this.blockedUntil) if (until <= now) this.blockedUntil.delete(blocked);
      }
      this.blockedUntil.set(address, now + seconds * 1000);
      return seconds;
    }
  }
}

const under = (path: string, prefix: string) => path === prefix || path.startsWith(`${prefix}/`);
/** A request URL's path, without its query. */
const pathOf = (url = '/') => {
  const query = url.indexOf('?');
  return query < 0 ? url : url.slice(0, query);
};

export interface GuardOptions {
  config: Config;
  /**
   * The keys clients must send (API_KEYS): with any, every path outside server.auth.public_paths needs one. Needed
   * when config.yaml server.auth.enabled is true (see apiKeys in ../contract/environment.ts); none: the API is open.
   */
  apiKeys?: readonly string[];
  /**
   * Routes that change or reveal the live model metrics (the route table's alwaysKeyed): they need a key whenever
   * keys exist, whatever public_paths says.
   */
  alwaysKeyed: readonly string[];
  /** Paths of files that hold no data (the route table's alwaysPublic: the dashboard's): never keyed or rate limited. */
  alwaysPublic: readonly string[];
  /**
   * Routes that change the service (the route table's admin, e.g. POST /admin/reload): without keys they are served
   * to loopback callers only, or to none, as server.hot_reload.admin_without_keys says (with keys, as alwaysKeyed).
   */
  adminPaths?: readonly string[];
  metrics: ServiceMetrics;
  onError: (error: unknown, requestId: string) => void;
}

export class RequestGuards {
  private readonly securityHeaders = helmetHeaders();
  /** The same headers as one flat [name, value, …] list for writeHead, which the fast path answers with. */
  private readonly securityHeaderList = this.securityHeaders.flat();
  private readonly timeoutMs: number;
  private readonly keys: ApiKeys | undefined;
  private readonly failedKeys: FailedKeyAttempts;
  private readonly keyHeader: string;
  private readonly publicPaths: readonly string[];
  private readonly unauthorizedHint: string;
  private readonly limiter: RateLimiterMemory | undefined;
  /** The admin paths, while no keys guard them. */
  private readonly keylessAdmin: readonly string[];
  /** Label objects of the request metrics, reused rather than built per request. */
  private readonly labels = new Map<string, { method: string; route: string; status: string }>();

  constructor(private readonly options: GuardOptions) {
    const { server } = options.config;
    this.timeoutMs = server.request_timeout_ms;
    this.keyHeader = server.auth.header.toLowerCase();
    this.publicPaths = server.auth.public_paths;
    this.unauthorizedHint = `ApiKey header="${server.auth.header}"`;
    if (options.apiKeys?.length) this.keys = new ApiKeys(options.apiKeys);
    else if (server.auth.enabled) throw new EnvironmentError('config.yaml server.auth.enabled is true but no API key is set (API_KEYS)');
    this.keylessAdmin = this.keys ? [] : (options.adminPaths ?? []);
    this.failedKeys = new FailedKeyAttempts(server.auth.failed_keys.limit, server.auth.failed_keys.window_seconds);
    if (server.rate_limit.enabled) {
      this.limiter = new RateLimiterMemory({ points: server.rate_limit.requests, duration: server.rate_limit.window_seconds });
    }
  }

  /** Opens the exchange: the request id, and the timer that answers 503 if nothing else does. */
  begin(req: IncomingMessage, res: ServerResponse): Exchange {
    const sent = req.headers['x-request-id'];
    const exchange = new Exchange(typeof sent === 'string' && REQUEST_ID.test(sent) ? sent : randomUUID());
    (res as TrackedResponse)[EXCHANGE] = exchange;
    exchange.timer = setTimeout(answerTimedOut, this.timeoutMs, this, res);
    return exchange;
  }

  /**
   * For a request Express answers: answers that Express writes itself (res.json, Swagger UI's files) get the
   * security headers and the request id now, stop the timer when they close, and are counted once finished under
   * the route pattern Express matched (`route`, read then). send() writes the same headers in one go.
   */
  answeredByExpress(req: IncomingMessage, res: ServerResponse, exchange: Exchange, route: () => string): void {
    for (const [name, value] of this.securityHeaders) res.setHeader(name, value);
    res.setHeader('x-request-id', exchange.requestId);
    res.once('close', stopTimer);
    res.once('finish', () => this.count(exchange, req.method!, route(), res.statusCode));
  }

  /**
   * Checks the API key and the rate limit, answering 401 or 429 itself; calls `next` when the request may go on.
   * With keys, every path needs one except those in server.auth.public_paths (and below them; never /feedback or
   * /monitoring), which also skip the rate limit, so probes and scrapes always get through. A key sent to a public
   * path is checked too: a valid one shows /ready's details, a wrong one counts as a failed attempt.
   */
  admit(req: IncomingMessage, res: ServerResponse, next: (req: IncomingMessage, res: ServerResponse) => void): void {
    if (this.keylessAdmin.length && !this.admitsKeylessAdmin(req, res)) return;
    if (!this.keys && !this.limiter) return next(req, res);
    const path = pathOf(req.url);
    const open = this.isPublic(path);
    let client: string | undefined;
    if (this.keys) {
      const header = req.headers[this.keyHeader];
      const presented = typeof header === 'string' && header.length > 0 ? header : undefined;
      if (presented !== undefined || !open) {
        const address = req.socket.remoteAddress ?? 'unknown';
        const wait = this.failedKeys.retryAfter(address);
        if (wait > 0) {
          this.sendTooManyFailedKeys(res, wait);
          return;
        }
        const key = presented === undefined ? -1 : this.keys.match(presented);
        if (key < 0) return this.refuse(res, presented, address);
        const exchange = exchangeOf(res);
        if (exchange) exchange.authenticated = true;
        client = `key:${key}`; // never the key itself: it would sit in the limiter's memory
      }
    }
    if (open || !this.limiter) return next(req, res);
    this.limiter.consume(client ?? `ip:${req.socket.remoteAddress ?? 'unknown'}`).then(
      () => {
        try {
          next(req, res);
        } catch (error) {
          this.fail(res, error);
        }
      },
      (rejection: unknown) => {
        if (!(rejection instanceof RateLimiterRes)) {
          this.fail(res, rejection);
          return;
        }
        const seconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
        res.setHeader('retry-after', String(seconds));
        const { requests, window_seconds } = this.options.config.server.rate_limit;
        this.sendError(res, 429, {
          error: 'rate_limited',
          message: `More than ${requests} requests in ${window_seconds} s from this client; retry in ${seconds} s`,
        });
      },
    );
  }

  /**
   * Whether the caller may see internal details (GET /ready's errors and sink states): it sent a valid key, or the
   * service has no keys at all (open, as `npm start` on a workstation).
   */
  showsDetails(res: ServerResponse): boolean {
    return !this.keys || exchangeOf(res)?.authenticated === true;
  }

  /** Without keys, an admin path is for loopback callers (admin_without_keys: loopback) or for none (off); 403 otherwise. */
  private admitsKeylessAdmin(req: IncomingMessage, res: ServerResponse): boolean {
    const path = pathOf(req.url).toLowerCase(); // Express routes /Admin/Reload there too
    if (!this.keylessAdmin.some((admin) => under(path, admin))) return true;
    const setting = this.options.config.server.hot_reload.admin_without_keys;
    const address = req.socket.remoteAddress ?? '';
    if (setting === 'loopback' && /^(127\.|::1$|::ffff:127\.)/.test(address)) return true;
    const why = setting === 'loopback' ? 'from this machine (loopback) only' : 'not at all (server.hot_reload.admin_without_keys: off)';
    this.sendError(res, 403, {
      error: 'forbidden',
      message: `${req.method} ${path} changes the service: without API keys it is served ${why}; set API_KEYS and send a key`,
    });
    return false;
  }

  private isPublic(path: string): boolean {
    if (this.options.alwaysPublic.includes(path)) return true;
    if (!this.publicPaths.some((open) => under(path, open))) return false;
    const lower = path.toLowerCase(); // Express routes /Feedback to /feedback
    return !this.options.alwaysKeyed.some((keyed) => under(lower, keyed));
  }

  /** 401 for a missing or wrong key; a wrong one is counted against its address, and the one over the limit gets 429. */
  private refuse(res: ServerResponse, presented: string | undefined, address: string): void {
    const { header } = this.options.config.server.auth;
    const unauthorized = () => {
      res.setHeader('www-authenticate', this.unauthorizedHint);
      this.sendError(res, 401, {
        error: 'unauthorized',
        message: presented ? `The API key in the ${header} header is not valid` : `This path needs an API key in the ${header} header`,
      });
    };
    if (presented === undefined) return unauthorized();
    this.failedKeys.record(address).then(
      (wait) => (wait > 0 ? this.sendTooManyFailedKeys(res, wait) : unauthorized()),
      (error: unknown) => this.fail(res, error),
    );
  }

  private sendTooManyFailedKeys(res: ServerResponse, seconds: number): boolean {
    res.setHeader('retry-after', String(seconds));
    const { limit, window_seconds } = this.options.config.server.auth.failed_keys;
    return this.sendError(res, 429, {
      error: 'too_many_failed_keys',
      message: `More than ${limit} wrong API keys in ${window_seconds} s from this address; retry in ${seconds} s`,
    });
  }

  /**
   * Answers with a JSON text, unless the request was answered already (the timeout) or its client is gone.
   * Returns whether it answered.
   */
  send(res: ServerResponse, status: number, json: JsonText): boolean {
    const exchange = exchangeOf(res);
    if (exchange?.timer) {
      clearTimeout(exchange.timer);
      exchange.timer = undefined;
    }
    if (res.headersSent || res.destroyed) return false;
    let bytes = 0;
    if (typeof json === 'string') bytes = Buffer.byteLength(json);
    else for (const piece of json) bytes += Buffer.byteLength(piece);
    const length = String(bytes);
    res.writeHead(
      status,
      exchange
        ? [...this.securityHeaderList, 'x-request-id', exchange.requestId, 'content-type', JSON_TYPE, 'content-length', length]
        : [...this.securityHeaderList, 'content-type', JSON_TYPE, 'content-length', length],
    );
    if (typeof json === 'string') res.end(json);
    else {
      // One writev for the pieces: the socket is corked until end().
      res.cork();
      for (const piece of json) res.write(piece);
      res.end();
    }
    if (exchange?.route) this.count(exchange, exchange.route.method, exchange.route.path, status);
    return true;
  }

  /** An error answer; under /v2 in the Open Inference Protocol's form, whose `error` V2 clients show (openInferenceError). */
  sendError(res: ServerResponse, status: number, error: JsonError): boolean {
    return this.send(res, status, JSON.stringify(isOpenInferencePath(res.req?.url) ? openInferenceError(error) : error));
  }

  /**
   * An error thrown while answering. One that carries a 4xx `status` is the request's fault (an unknown category,
   * a malformed URL) and is answered with it; anything else is logged under the request id and answered 500 with
   * that id. Either way the process keeps serving.
   */
  fail(res: ServerResponse, error: unknown): void {
    try {
      const status = (error as { status?: unknown } | null)?.status;
      if (typeof status === 'number' && status >= 400 && status < 500) {
        const message = error instanceof Error && error.message ? error.message : 'Bad request';
        const code = status === 422 ? 'validation_failed' : 'bad_request';
        // The protocol's bad request is 400, whatever found it (a value the model cannot compute with, say).
        this.sendError(res, status === 422 && isOpenInferencePath(res.req?.url) ? 400 : status, { error: code, message });
        return;
      }
      const requestId = exchangeOf(res)?.requestId ?? randomUUID();
      this.options.onError(error, requestId);
      this.sendError(res, 500, {
        error: 'internal_error',
        message: 'The request failed unexpectedly; the error is logged under this request id',
        request_id: requestId,
      });
    } catch {
      res.destroy(); // not even an error answer can be written: drop this connection, keep the process
    }
  }

  answerTimedOut(res: ServerResponse): void {
    const exchange = exchangeOf(res);
    if (exchange) exchange.timer = undefined;
    this.sendError(res, 503, {
      error: 'timeout',
      message: `The request was not answered within ${this.timeoutMs} ms (server.request_timeout_ms); retry later`,
    });
  }

  /** Counts and times an answered request by method, route pattern and status, once (label objects made once per combination). */
  count(exchange: Exchange, method: string, route: string, status: number): void {
    if (exchange.counted) return;
    exchange.counted = true;
    const key = `${method} ${route} ${status}`;
    let labels = this.labels.get(key);
    if (!labels) this.labels.set(key, (labels = { method, route, status: String(status) }));
    const { httpRequests, httpDuration } = this.options.metrics;
    httpRequests.inc(labels);
    httpDuration.observe(labels, (performance.now() - exchange.startedAt) / 1000);
  }
}

function answerTimedOut(guards: RequestGuards, res: ServerResponse): void {
  guards.answerTimedOut(res);
}

function stopTimer(this: ServerResponse): void {
  const exchange = exchangeOf(this);
  if (exchange?.timer) clearTimeout(exchange.timer);
}
