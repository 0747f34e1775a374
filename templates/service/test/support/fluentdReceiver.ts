// A stand-in for a Fluentd server: a TCP server speaking the receiving side of the Forward protocol v1
// (https://github.com/fluent/fluentd/wiki/Forward-Protocol-Specification-v1): Message, Forward,
// PackedForward and CompressedPackedForward modes, EventTime, and acks for messages that carry a chunk id.
// It can be stopped and restarted on the same port to play an outage.
import type { Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { decodeMulti, decodeMultiStream, encode, ExtensionCodec } from '@msgpack/msgpack';
import { TcpTestServer } from './tcpTestServer.js';

export interface ForwardedEvent {
  tag: string;
  /** Seconds since the epoch, with the nanoseconds of an EventTime as the fraction. */
  time: number;
  record: Record<string, unknown>;
}

/** Fluentd's EventTime: msgpack extension type 0, seconds and nanoseconds as two big-endian uint32. */
const extensionCodec = new ExtensionCodec();
extensionCodec.register({
  type: 0,
  encode: () => null,
  decode: (data: Uint8Array) => {
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    return view.getUint32(0) + view.getUint32(4) / 1e9;
  },
});

type Entry = [time: number, record: Record<string, unknown>];

export class FluentdReceiver extends TcpTestServer {
  readonly events: ForwardedEvent[] = [];
  /** Messages (not events) that asked for an ack and got one. */
  acks = 0;
  private waiters: { count: number; resolve: () => void }[] = [];

  /** Resolves once `count` events have been received, or rejects after `timeoutMs` saying how many arrived. */
  async waitForEvents(count: number, timeoutMs = 10_000): Promise<void> {
    if (this.events.length >= count) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => this.waiters.push({ count, resolve })),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`the Fluentd receiver got ${this.events.length} of ${count} events within ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]).finally(() => clearTimeout(timer));
  }

  protected serve(socket: Socket): void {
    void this.decode(socket);
  }

  private async decode(socket: Socket): Promise<void> {
    try {
      for await (const message of decodeMultiStream(socket, { extensionCodec })) this.receive(socket, message);
    } catch {
      socket.destroy(); // cut mid-message (stop()) or not msgpack: either way this connection is done
    }
  }

  /** One Forward-protocol message: [tag, time, record, option?] | [tag, entries, option?]. */
  private receive(socket: Socket, message: unknown): void {
    if (!Array.isArray(message) || typeof message[0] !== 'string') throw new Error('not a Forward protocol message');
    const [tag, second, third, fourth] = message as [string, unknown, unknown, unknown];
    let entries: Entry[];
    let option: { chunk?: string; compressed?: string } | undefined;
    if (typeof second === 'number') {
      entries = [[second, third as Record<string, unknown>]]; // Message mode
      option = fourth as typeof option;
    } else {
      option = third as typeof option;
      if (Array.isArray(second))
        entries = second as Entry[]; // Forward mode
      else {
        // PackedForward: a msgpack stream of [time, record], gzipped in CompressedPackedForward.
        const bytes = typeof second === 'string' ? Buffer.from(second, 'binary') : (second as Uint8Array);
        entries = [...decodeMulti(option?.compressed === 'gzip' ? gunzipSync(bytes) : bytes, { extensionCodec })] as Entry[];
      }
    }
    if (!this.listening) return; // arrived while "down": not received, not acked
    for (const [time, record] of entries) this.events.push({ tag, time, record });
    if (option?.chunk) {
      socket.write(encode({ ack: option.chunk }));
      this.acks++;
    }
    this.waiters = this.waiters.filter((waiter) => (this.events.length >= waiter.count ? (waiter.resolve(), false) : true));
  }
}
