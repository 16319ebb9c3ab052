import type { BulkChange } from '../core/bulk-change.ts';
import { nextWave, type WaveProgress } from '../core/waves.ts';
import type { Tx } from '../db/database.ts';
import { bulkChangesRepository } from './bulk-changes-repository.ts';

/**
 * Opens a change's next canary wave (its first when the change is written, the next when the engine
 * finds one ended): the rows it may send are those up to the row number where the wave ends, in row
 * order; the last wave has no gate. Returns where the change now is.
 */
export async function openNextWave(
  tx: Tx,
  change: Pick<BulkChange, 'id' | 'totalCount'>,
  progress: WaveProgress,
  now: number,
): Promise<WaveProgress> {
  const repository = bulkChangesRepository(tx);
  const total = change.totalCount;
  const next = nextWave(progress.plan, progress.current, progress.reached, total);
  const toRow = next.end >= total ? null : ((await repository.rowNumberAt(change.id, next.end)) ?? null);
  const opened: WaveProgress = {
    ...progress,
    current: next.index,
    afterRow: progress.toRow ?? 0,
    toRow,
    reached: next.end,
  };
  await repository.setWaves(change.id, opened, now);
  return opened;
}
