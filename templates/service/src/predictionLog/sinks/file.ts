// JSON lines appended to a file. Each batch opens, appends and closes, so a log rotator may move the file
// at any time and the next batch starts a new one.
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Sink } from '../queue.js';

/** Appends JSON lines (predictionLines in ../record.ts), each newline-terminated. */
export class FileSink implements Sink<string> {
  readonly name = 'file';

  constructor(readonly path: string) {}

  async send(lines: readonly string[]): Promise<void> {
    const text = lines.join('');
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
