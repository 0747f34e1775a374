// JSON lines appended to a file. Each batch opens, appends and closes, so a log rotator may move the file
// at any time and the next batch starts a new one.
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Sink } from '../queue.js';
import type { PredictionRecord } from '../record.js';
import { jsonLines } from './stdout.js';

export class FileSink implements Sink<PredictionRecord> {
  readonly name = 'file';

  constructor(readonly path: string) {}

  async send(records: readonly PredictionRecord[]): Promise<void> {
    try {
      await appendFile(this.path, jsonLines(records));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      await mkdir(dirname(this.path), { recursive: true });
      await appendFile(this.path, jsonLines(records));
    }
  }

  async close(): Promise<void> {
    // Nothing stays open between batches.
  }
}
