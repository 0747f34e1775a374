// JSON lines appended to a file. Each batch opens, appends and closes, so a log rotator may move the file
// at any time and the next batch starts a new one.
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Sink } from '../queue.js';
import { predictionLine, type LoggedPrediction } from '../../runtime/wireFormat.js';

/** Appends each prediction as a JSON line. */
export class FileSink implements Sink<LoggedPrediction> {
  readonly name = 'file';

  constructor(readonly path: string) {}

  async send(predictions: readonly LoggedPrediction[]): Promise<void> {
    const text = predictions.map(predictionLine).join('');
    try {
      await appendFile(this.path, text);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      await mkdir(dirname(this.path), { recursive: true });
      await appendFile(this.path, text);
    }
  }

  async close(): Promise<void> {
    // Nothing stays open between batches.
  }
}
