import { nanoToUsd } from './money.js';

/** How a job was answered from the cache. */
export type CacheHitKind = 'exact' | 'semantic' | 'partial';

/** A job record's money and cache fields, as stored. */
export interface JobSpend {
  /** What the job cost, nano-dollars; null before anything was charged. */
  costNano: number | null;
  /** What the cache saved it, nano-dollars; null when nothing was saved or the price is unknown. */
  savedNano: number | null;
  /** Why the cost is unknown (a model without a price); null when known. */
  costUnknown: string | null;
  cached: CacheHitKind | null;
  /** Semantic hits: cosine similarity of the stored prompt. */
  cacheSimilarity: number | null;
  /** Embedding jobs: inputs answered from the cache. */
  cachedInputs: number | null;
}

/** The job object's money and cache fields. */
export interface JobSpendObject {
  /**
   * What the job cost in USD, once it has ended: 0 for a cache hit or a job that failed without
   * any reported usage; null when a model's price is unknown (`cost_unknown_reason` says which).
   */
  cost_usd: number | null;
  /** What the cache saved, USD (the stored answer's usage at today's price); 0 without a hit. */
  saved_usd: number | null;
  cost_unknown_reason: string | null;
  /** `exact`, `semantic`, or `partial` (an embedding job with some inputs from the cache); null otherwise. */
  cached: CacheHitKind | null;
  /** Semantic hits: the stored prompt's cosine similarity to this one. */
  cache_similarity: number | null;
  /** Embedding jobs: how many inputs the cache answered. */
  cached_inputs: number | null;
}

/** The job object's fields; money is shown once the job has ended. */
export function toJobSpendObject(spend: JobSpend, ended: boolean): JobSpendObject {
  return {
    cost_usd: !ended || spend.costUnknown !== null ? null : nanoToUsd(spend.costNano ?? 0),
    saved_usd: !ended ? null : spend.savedNano !== null ? nanoToUsd(spend.savedNano) : spend.cached ? null : 0,
    cost_unknown_reason: ended ? spend.costUnknown : null,
    cached: spend.cached,
    cache_similarity: spend.cacheSimilarity,
    cached_inputs: spend.cachedInputs,
  };
}
