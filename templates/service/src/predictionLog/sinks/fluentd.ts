// Records to Fluentd over its Forward protocol with fluent-logger. A batch goes as one PackedForward message;
// with ack on, Fluentd confirms it (at-least-once: a batch whose ack is lost is sent again, and record_id
// lets the store drop the duplicate).
//
// fluent-logger keeps its own queue and, while Fluentd is down, neither calls back nor fails the records: it
// only emits 'error', and delivers them after a later emit reconnects. So each send has its own timeout, and
// after any failure the sender (with its queue) is thrown away and the batch goes back to our queue, which
// alone decides what is retried, so nothing is sent twice by two queues.
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import type { FluentdSettings } from '../../contract/environment.js';
import type { Sink } from '../queue.js';
import { predictionRecord, type LoggedPrediction } from '../../runtime/wireFormat.js';

/** The part of fluent-logger's sender used here (its bundled types lack on() and the options below). */
interface ForwardSender {
  emit(record: object, time: unknown, callback: (error?: Error) => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
  end(label?: string, record?: object, callback?: () => void): void;
  /** Its connection while it has one (not in fluent-logger's API; see discard()). */
  _socket?: Socket | null;
}

interface FluentLogger {
  createFluentSender(tag: string, options: Record<string, unknown>): ForwardSender;
  EventTime: { fromTimestamp(milliseconds: number): unknown };
}
let fluentLogger: FluentLogger | undefined;
/** fluent-logger, loaded on first use: a service that logs elsewhere need not pay for it at start-up. */
const fluent = (): FluentLogger => (fluentLogger ??= createRequire(import.meta.url)('fluent-logger') as FluentLogger);

export class FluentdSink implements Sink<LoggedPrediction> {
  readonly name = 'fluentd';
  private sender: ForwardSender | undefined;
  /** Fails the send in progress; set while one is. */
  private failSend: ((error: Error) => void) | undefined;

  constructor(readonly settings: FluentdSettings) {}

  send(predictions: readonly LoggedPrediction[]): Promise<void> {
    const records = predictions.map(predictionRecord);
    const sender = (this.sender ??= this.createSender());
    const { host, port, ack, timeoutMs } = this.settings;
    return new Promise<void>((resolve, reject) => {
      let waiting = records.length;
      const settle = (error?: Error) => {
        if (this.failSend !== fail) return; // already settled
        this.failSend = undefined;
        clearTimeout(timer);
        if (error) {
          this.discard(sender);
          reject(error);
        } else resolve();
      };
      const fail = (error: Error) => settle(new Error(`Fluentd at ${host}:${port}: ${error.message}`));
      const timer = setTimeout(() => fail(new Error(`no ${ack ? 'acknowledgement' : 'delivery'} within ${timeoutMs} ms`)), timeoutMs);
      this.failSend = fail;
      for (const record of records) {
        // An explicit event time: without one, fluent-logger has only whole seconds.
        sender.emit(record, fluent().EventTime.fromTimestamp(Date.parse(record.timestamp)), (error) => {
          if (error) fail(error);
          else if (--waiting === 0) settle();
        });
      }
    });
  }

  async close(): Promise<void> {
    this.failSend?.(new Error('the service is shutting down'));
    if (this.sender) this.discard(this.sender);
  }

  private createSender(): ForwardSender {
    const { host, port, tag, ack, timeoutMs } = this.settings;
    const sender = fluent().createFluentSender(tag, {
      host,
      port,
      eventMode: 'PackedForward', // one message (and one ack) per batch instead of per record
      flushInterval: 1, // ms; our queue does the batching
      requireAckResponse: ack,
      ackResponseTimeout: timeoutMs,
      enableReconnect: false, // else it schedules its own reconnect (and resend) minutes later
    });
    // Without a listener fluent-logger's errors would go unnoticed; a failure belongs to the send in progress.
    sender.on('error', (error) => {
      if (sender === this.sender) this.failSend?.(error);
    });
    return sender;
  }

  /**
   * Throws a sender away with its socket; records in its own queue are forgotten (ours still has them). Its end()
   * only half-closes the socket, which then waits for the peer's FIN: a peer that accepts but does not read (Fluentd
   * blocking on a full buffer) never sends one, and each failed send would leave a socket open for good. So the
   * socket is destroyed, and left in the sender, whose pending write callbacks still look at it.
   */
  private discard(sender: ForwardSender): void {
    if (this.sender === sender) this.sender = undefined;
    sender._socket?.destroy();
  }
}
