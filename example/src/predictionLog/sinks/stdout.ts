// JSON lines on standard output: in Kubernetes the container runtime keeps them and Filebeat or Fluent Bit
// ships them, with nothing to configure in the service.
import cluster from 'node:cluster';
import type { Writable } from 'node:stream';
import type { Sink } from '../queue.js';
import { predictionLine, type LoggedPrediction } from '../../runtime/wireFormat.js';

/**
 * The most bytes a pipe takes in one atomic write (POSIX PIPE_BUF on Linux). With server.workers > 1 every
 * worker writes to the same pipe, and a longer write may be split and interleaved with another worker's:
 * so a batch goes in writes of whole lines, each at most this long (a single longer line goes alone).
 */
export const ATOMIC_WRITE_BYTES = 4096;

/** The JSON lines (each newline-terminated) grouped into chunks of whole lines of at most ATOMIC_WRITE_BYTES (UTF-8) each. */
export function jsonLineChunks(lines: readonly string[]): string[] {
  const chunks: string[] = [];
  let chunk = '';
  let bytes = 0;
  for (const line of lines) {
    // UTF-8 bytes, not characters: an id or category value outside ASCII takes 2 to 4 bytes a character.
    const length = Buffer.byteLength(line);
    if (bytes > 0 && bytes + length > ATOMIC_WRITE_BYTES) {
      chunks.push(chunk);
      chunk = '';
      bytes = 0;
    }
    chunk += line;
    bytes += length;
  }
  if (chunk) chunks.push(chunk);
  return chunks;
}

/** Writes each prediction as a JSON line. */
export class StdoutSink implements Sink<LoggedPrediction> {
  readonly name = 'stdout';
  private streamError: Error | undefined;
  // A closed pipe (EPIPE) emits 'error'; unhandled, that would end the process.
  private readonly onStreamError = (error: Error) => (this.streamError = error);

  /** `sharedPipe`: other processes write to the same stream (cluster workers); then a batch goes in atomic chunks. */
  constructor(
    private readonly stream: Writable = process.stdout,
    private readonly sharedPipe = cluster.isWorker,
  ) {
    stream.on('error', this.onStreamError);
  }

  send(predictions: readonly LoggedPrediction[]): Promise<void> {
    if (this.streamError) return Promise.reject(new Error(`standard output is not writable: ${this.streamError.message}`));
    const lines = predictions.map(predictionLine);
    // Alone on the stream, one write per batch: fewest system calls.
    const chunks = this.sharedPipe ? jsonLineChunks(lines) : [lines.join('')];
    const last = chunks.pop();
    if (last === undefined) return Promise.resolve();
    // Writes complete in order: the last one's callback says the whole batch is written.
    for (const chunk of chunks) this.stream.write(chunk);
    return new Promise((resolve, reject) => this.stream.write(last, (error) => (error ? reject(error) : resolve())));
  }

  async close(): Promise<void> {
    this.stream.off('error', this.onStreamError); // the stream itself belongs to the process: left open
  }
}
