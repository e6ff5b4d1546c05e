import type { BatchObject } from '../openai-compat/batches/batch-object.js';
import type { BatchStore } from '../openai-compat/batches/batch-store.js';

/** A batch and the tenant it belongs to. */
export interface TenantBatch {
  tenant: string;
  batch: BatchObject;
}

export interface BatchPage {
  batches: TenantBatch[];
  /** The `after` of the next page; null on the last one. */
  next: string | null;
}

/**
 * Batches of every tenant, newest first, a page at a time, read from each tenant's own index
 * (ids sort by creation time, so the pages merge by id). The tenants are the config's: the API
 * keeps no list of tenants in Redis and the admin page never scans the keyspace, so a tenant
 * whose keys were removed from `LLMQ_API_KEYS` is no longer listed (its batches open by URL).
 * A page costs one index read per tenant and one read per batch shown.
 */
export async function readBatchPage(options: {
  batches: Pick<BatchStore, 'ids' | 'get'>;
  tenants: readonly string[];
  limit: number;
  /** The id the previous page ended with. */
  after?: string | undefined;
}): Promise<BatchPage> {
  const { batches, limit, after } = options;
  const tenants = [...new Set(options.tenants)];
  const pages = await Promise.all(
    tenants.map(async (tenant) => (await batches.ids(tenant, limit + 1, after)).map((id) => ({ tenant, id }))),
  );
  const newestFirst = pages.flat().sort((left, right) => (left.id < right.id ? 1 : left.id > right.id ? -1 : 0));
  const shown = newestFirst.slice(0, limit);
  const read = await Promise.all(
    shown.map(async ({ tenant, id }) => ({ tenant, batch: await batches.get(tenant, id) })),
  );
  return {
    // An index outlives a batch it names by up to the retention: an expired batch is left out.
    batches: read.flatMap(({ tenant, batch }) => (batch === null ? [] : [{ tenant, batch }])),
    next: newestFirst.length > limit ? (shown[shown.length - 1]?.id ?? null) : null,
  };
}
