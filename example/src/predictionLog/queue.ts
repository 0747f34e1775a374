// The one queue every sink sits behind. Requests only ever push() (constant time, never waits, never
// throws); a background loop sends batches to the sink, retries a failed batch with exponential backoff, and
// when the queue is full drops the oldest records. Every record accepted ends up counted exactly once: sent,
// dropped, or still queued / in flight.
import type { QueueSettings } from '../contract/environment.js';

export interface Sink<T> {
  /** Names the sink in counts and messages, e.g. "fluentd". */
  readonly name: string;
  /** Delivers the records; resolves once they are delivered (acknowledged, where the sink can), rejects otherwise. */
  send(records: readonly T[]): Promise<void>;
  /** Releases connections and files; an in-flight send() rejects. */
  close(): Promise<void>;
}

export interface QueueOptions extends QueueSettings {
  /** Told when the sink starts failing (its records are kept and retried) … */
  onFailing?: (sink: string, error: unknown) => void;
  /** … and when it delivers again. */
  onRecovered?: (sink: string, failedSends: number) => void;
}

export interface SinkCounts {
  /** Waiting in the queue. */
  queued: number;
  /** Handed to the sink, not yet confirmed. */
  in_flight: number;
  /** Confirmed delivered. */
  sent: number;
  /** Sends of records that had failed before (a record retried twice counts twice). */
  retried: number;
  /** Lost: pushed out of a full queue (the oldest first), or still undelivered when the service stopped. */
  dropped: number;
  /** Sends that failed (whole batches). */
  failed_sends: number;
  /** The last send error, cleared by the next success. */
  last_error?: string;
}

/** How long close() waits for a closed sink to settle its in-flight send. */
const CLOSE_WAIT_MS = 1000;

async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const settled = await Promise.race([promise.then(() => true), timeout]);
  clearTimeout(timer);
  return settled;
}

interface Entry<T> {
  record: T;
  /** Sends tried so far: more than zero means the next send is a retry. */
  attempts: number;
}

export class SinkQueue<T> {
  /** A ring buffer: O(1) push, drop-oldest and put-back-in-front. */
  private readonly ring: (Entry<T> | undefined)[];
  private head = 0;
  private length = 0;
  private inFlight = 0;
  private sent = 0;
  private retried = 0;
  private dropped = 0;
  private failedSends = 0;
  private lastError: string | undefined;
  private failuresInARow = 0;
  private flushTimer: NodeJS.Timeout | undefined;
  private drainSoon = false;
  /** Set by flush(): send partial batches at once. */
  private flushing = false;
  private draining: Promise<void> | undefined;
  private wakeFromBackoff: (() => void) | undefined;
  private closed = false;
  /** Set when close() gave up waiting for an in-flight send: its late outcome is no longer counted. */
  private abandoned = false;

  constructor(
    readonly sink: Sink<T>,
    private readonly options: QueueOptions,
  ) {
    if (!(options.capacity >= 1 && options.batchSize >= 1 && options.batchSize <= options.capacity))
      throw new Error('a prediction log queue needs 1 <= batch size <= capacity');
    this.ring = new Array<Entry<T> | undefined>(options.capacity);
  }

  /** Queues a record for the sink. Never blocks and never throws: a full queue drops its oldest record. */
  push(record: T): void {
    if (this.closed) {
      this.dropped++;
      return;
    }
    if (this.length === this.options.capacity) {
      this.removeFront(1);
      this.dropped++;
    }
    this.ring[(this.head + this.length) % this.options.capacity] = { record, attempts: 0 };
    this.length++;
    this.scheduleDrain();
  }

  counts(): SinkCounts {
    return {
      queued: this.length,
      in_flight: this.inFlight,
      sent: this.sent,
      retried: this.retried,
      dropped: this.dropped,
      failed_sends: this.failedSends,
      ...(this.lastError === undefined ? {} : { last_error: this.lastError }),
    };
  }

  /** Sends everything queued now, retrying while the sink fails; resolves true once empty, false at the deadline. */
  async flush(timeoutMs: number): Promise<boolean> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.wakeFromBackoff?.(); // shutting down: retry now rather than after a long backoff
    this.flushing = true;
    try {
      const deadline = Date.now() + timeoutMs;
      while (this.length > 0 || this.draining) {
        const remaining = deadline - Date.now();
        if (remaining <= 0 || !(await settlesWithin(this.draining ?? this.startDrain(), remaining))) return false;
      }
      return true;
    } finally {
      this.flushing = false;
    }
  }

  /**
   * Stops sending and closes the sink. Records not delivered by now (queued, or in flight when the sink is
   * closed under them) are counted as dropped. Call flush() first to give them a chance.
   */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.flushTimer);
    this.wakeFromBackoff?.();
    try {
      await this.sink.close();
    } catch (error) {
      this.lastError = `closing: ${error instanceof Error ? error.message : String(error)}`;
    }
    if (this.draining && !(await settlesWithin(this.draining, CLOSE_WAIT_MS))) {
      this.abandoned = true;
      this.dropped += this.inFlight;
      this.inFlight = 0;
    }
    this.dropped += this.length;
    this.removeFront(this.length);
  }

  private scheduleDrain(): void {
    if (this.draining || this.drainSoon) return; // the running loop picks up new records itself
    if (this.length >= this.options.batchSize) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
      this.drainSoon = true;
      // Not synchronously: push() runs on the request path, sending does not.
      setImmediate(() => {
        this.drainSoon = false;
        void this.startDrain();
      });
    } else {
      this.flushTimer ??= setTimeout(() => {
        this.flushTimer = undefined;
        void this.startDrain();
      }, this.options.flushIntervalMs).unref();
    }
  }

  private startDrain(): Promise<void> {
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
      if (this.length > 0 && !this.closed) this.scheduleDrain();
    });
    return this.draining;
  }

  /**
   * Sends full batches while there are any. A partial batch goes only when it is due: its flush timer fired,
   * it failed before (the retry), or shutdown is flushing. Waiting for full batches is what keeps the cost
   * per record low under load: a send has a fixed cost (a round trip, an ack, a driver command).
   */
  private async drain(): Promise<void> {
    let partialDue = true; // started by the flush timer, by a full queue, or by flush()
    while (this.length > 0 && !this.closed && (partialDue || this.flushing || this.length >= this.options.batchSize)) {
      const batch = this.takeFront(Math.min(this.length, this.options.batchSize));
      for (const entry of batch) if (entry.attempts++ > 0) this.retried++;
      this.inFlight = batch.length;
      let failure: { error: unknown } | undefined;
      try {
        await this.sink.send(batch.map((entry) => entry.record));
      } catch (error) {
        failure = { error };
      }
      if (this.abandoned) return; // close() has counted this batch already
      this.inFlight = 0;
      if (!failure) {
        this.sent += batch.length;
        if (this.failuresInARow > 0) this.options.onRecovered?.(this.sink.name, this.failuresInARow);
        this.failuresInARow = 0;
        this.lastError = undefined;
        partialDue = false;
        continue;
      }
      this.failedSends++;
      this.failuresInARow++;
      this.lastError = failure.error instanceof Error ? failure.error.message : String(failure.error);
      if (this.failuresInARow === 1) this.options.onFailing?.(this.sink.name, failure.error);
      if (this.closed) this.dropped += batch.length;
      else this.putBackInFront(batch);
      partialDue = true; // the retry goes after the backoff, full or not
      await this.backoff();
    }
  }

  private backoff(): Promise<void> {
    if (this.closed) return Promise.resolve();
    const { retryInitialMs, retryMaxMs } = this.options;
    const delay = Math.min(retryMaxMs, retryInitialMs * 2 ** Math.min(this.failuresInARow - 1, 30));
    const jittered = delay * (0.8 + 0.4 * Math.random()); // so that many replicas do not retry in lockstep
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeFromBackoff = undefined;
        resolve();
      };
      const timer = setTimeout(done, jittered).unref();
      this.wakeFromBackoff = done;
    });
  }

  private takeFront(count: number): Entry<T>[] {
    const taken: Entry<T>[] = [];
    for (let i = 0; i < count; i++) taken.push(this.ring[(this.head + i) % this.options.capacity]!);
    this.removeFront(count);
    return taken;
  }

  private removeFront(count: number): void {
    for (let i = 0; i < count; i++) this.ring[(this.head + i) % this.options.capacity] = undefined;
    this.head = (this.head + count) % this.options.capacity;
    this.length -= count;
  }

  /** A failed batch goes back in front, being the oldest; what no longer fits (its oldest part) is dropped. */
  private putBackInFront(batch: Entry<T>[]): void {
    const capacity = this.options.capacity;
    const overflow = Math.max(0, this.length + batch.length - capacity);
    this.dropped += overflow;
    for (let i = batch.length - 1; i >= overflow; i--) {
      this.head = (this.head - 1 + capacity) % capacity;
      this.ring[this.head] = batch[i];
      this.length++;
    }
  }
}
