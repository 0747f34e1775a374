// model_bin/HISTORY: every change of LATEST, replayed into the versions LATEST has named (what a rollback walks back).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readLatest } from '../../src/model/artifacts.js';
import { HISTORY_FILE, latestStack, readHistory, recordPromotion, type PromotionEvent } from '../../src/training/promotionHistory.js';
import { temporaryDir } from '../support/modelStore.js';

const event = (action: PromotionEvent['action'], version: string, previous: string | null): PromotionEvent => ({
  at: '2025-01-01T00:00:00.000Z',
  action,
  version,
  previous,
});

describe('promotion history', () => {
  it('promotions push, rollbacks pop; a LATEST set outside the history counts as served', () => {
    const events = [event('train', 'a', null), event('train', 'b', 'a'), event('promote', 'c', 'b')];
    assert.deepEqual(latestStack(events, 'c'), ['a', 'b', 'c']);
    assert.deepEqual(latestStack([...events, event('rollback', 'b', 'c')], 'b'), ['a', 'b']);
    // LATEST written by hand to "x" after c: x was served, and c before it.
    assert.deepEqual(latestStack(events, 'x'), ['a', 'b', 'c', 'x']);
    // A promotion recorded after a hand-written LATEST keeps that one in between.
    assert.deepEqual(latestStack([...events, event('promote', 'd', 'x')], 'd'), ['a', 'b', 'c', 'x', 'd']);
    assert.deepEqual(latestStack([], undefined), []);
  });

  it('records each change after writing LATEST, and names a damaged line', async () => {
    const store = temporaryDir('history-');
    await recordPromotion(store, { action: 'train', version: 'a' });
    await recordPromotion(store, { action: 'promote', version: 'b' });
    assert.equal(await readLatest(store), 'b');
    assert.deepEqual(
      (await readHistory(store)).map(({ action, version, previous }) => [action, version, previous]),
      [
        ['train', 'a', null],
        ['promote', 'b', 'a'],
      ],
    );
    writeFileSync(join(store, HISTORY_FILE), '{"at":"x","action":"train","version":"a","previous":null}\n{"version": 3}\n');
    await assert.rejects(readHistory(store), /HISTORY:2 is not a promotion record .*fix or delete that line/);
  });
});
