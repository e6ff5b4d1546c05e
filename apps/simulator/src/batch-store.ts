/** What the store needs to know about a batch to drop it. */
export interface StoredBatch {
  readonly id: string;
  /** Whether the batch has ended (only ended batches are dropped to make room). */
  isEnded(): boolean;
  /** Stops its timers. */
  dispose(): void;
}

/** Default `SimulatorOptions.maxBatches`. */
export const DEFAULT_MAX_BATCHES = 1000;

/**
 * One provider's batches in creation order, at most `capacity` of them: a new batch drops the
 * oldest ended one; when every kept batch is still running, the new one is refused.
 */
export class BatchStore<Batch extends StoredBatch> {
  private readonly batches = new Map<string, Batch>();
  private readonly capacity: number;

  constructor(capacity: number = DEFAULT_MAX_BATCHES) {
    this.capacity = Math.max(1, capacity);
  }

  /** False when the store is full of running batches. */
  add(batch: Batch): boolean {
    if (this.batches.size >= this.capacity) {
      const oldestEnded = [...this.batches.values()].find((candidate) => candidate.isEnded());
      if (oldestEnded === undefined) return false;
      this.delete(oldestEnded.id);
    }
    this.batches.set(batch.id, batch);
    return true;
  }

  get(id: string): Batch | undefined {
    return this.batches.get(id);
  }

  delete(id: string): void {
    this.batches.get(id)?.dispose();
    this.batches.delete(id);
  }

  /** Newest first, as every provider lists them. */
  newestFirst(): Batch[] {
    return [...this.batches.values()].reverse();
  }

  clear(): void {
    for (const batch of this.batches.values()) batch.dispose();
    this.batches.clear();
  }
}

/**
 * A page of `items` (newest first) after the item with id `after`, as the cursor-paged list
 * endpoints answer it; an unknown cursor gives an empty page.
 */
export function pageAfter<Item extends { id: string }>(
  items: readonly Item[],
  after: string | null,
  limit: number,
): { page: Item[]; hasMore: boolean } {
  const start = after === null ? 0 : items.findIndex((item) => item.id === after) + 1;
  if (after !== null && start === 0) return { page: [], hasMore: false };
  const page = items.slice(start, start + limit);
  return { page, hasMore: start + limit < items.length };
}
