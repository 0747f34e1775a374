// JSON lines on standard output: in Kubernetes the container runtime keeps them and Filebeat or Fluent Bit
// ships them, with nothing to configure in the service.
import type { Writable } from 'node:stream';
import type { Sink } from '../queue.js';
import type { PredictionRecord } from '../record.js';

/** One JSON object per line, a whole batch in one write. */
export function jsonLines(records: readonly PredictionRecord[]): string {
  let text = '';
  for (const record of records) text += `${JSON.stringify(record)}\n`;
  return text;
}

export class StdoutSink implements Sink<PredictionRecord> {
  readonly name = 'stdout';
  private streamError: Error | undefined;
  // A closed pipe (EPIPE) emits 'error'; unhandled, that would end the process.
  private readonly onStreamError = (error: Error) => (this.streamError = error);

  constructor(private readonly stream: Writable = process.stdout) {
    stream.on('error', this.onStreamError);
  }

  send(records: readonly PredictionRecord[]): Promise<void> {
    if (this.streamError) return Promise.reject(new Error(`standard output is not writable: ${this.streamError.message}`));
    return new Promise((resolve, reject) => this.stream.write(jsonLines(records), (error) => (error ? reject(error) : resolve())));
  }

  async close(): Promise<void> {
    this.stream.off('error', this.onStreamError); // the stream itself belongs to the process: left open
  }
}
