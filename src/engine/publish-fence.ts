import { SluiceError } from '../util/errors.ts';

/**
 * The fencing rule of a queued run's publish (PublishMeta.fence), one for every warehouse: given
 * what the warehouse has recorded for the queue item, a token older than one seen is refused (its
 * worker lost its lease), and an item already published by a claim is refused (published once).
 * Each warehouse reads and records the item's row in its own publish transaction.
 */
export function checkFence(item: string, token: number, seen: { readonly token: number; readonly publishedBy: number | null } | undefined): void {
  if (seen && seen.token > token) {
    throw new SluiceError('CONFLICT', `publish refused: queue item ${item}'s fencing token ${token} is stale (claim ${seen.token} holds it now); this worker lost its lease`, { field: STALE });
  }
  if (seen && seen.publishedBy !== null) {
    throw new SluiceError('CONFLICT', `publish refused: queue item ${item} was published already by its claim ${seen.publishedBy}; a queued run is published once`, { field: PUBLISHED });
  }
}

const STALE = 'fence.token';
const PUBLISHED = 'fence.published';

/** True when a publish was refused because an earlier claim of the same queue item published it: the item's work is done. */
export function publishedByEarlierClaim(e: unknown): boolean {
  return e instanceof SluiceError && e.code === 'CONFLICT' && e.place.field === PUBLISHED;
}
