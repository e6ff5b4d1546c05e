import { z } from 'zod';

/** Longest lifetime of a cache entry, seconds: 30 days. */
export const MAX_CACHE_TTL_SECONDS = 30 * 86_400;

const ttlSeconds = z.number().int().positive().max(MAX_CACHE_TTL_SECONDS);
const similarityThreshold = z.number().gt(0, 'must be above 0').max(1, 'must be at most 1');

/**
 * A chat job's own `cache`. Asking for a mode here is an explicit opt-in: the job is cached
 * whatever its temperature. `"off"` turns a config default off for this job.
 */
export const chatJobCacheSchema = z
  .strictObject({
    mode: z.enum(['exact', 'semantic', 'off'], { error: 'must be "exact", "semantic" or "off"' }),
    /** Lifetime of the entry this job stores, seconds. Default: the model rule's, else `cache.ttl_s`. */
    ttl_s: ttlSeconds.optional(),
    /** Semantic mode: least cosine similarity that answers from a stored prompt. Default: the config's. */
    threshold: similarityThreshold.optional(),
  })
  .refine((cache) => cache.threshold === undefined || cache.mode === 'semantic', {
    message: 'applies to mode "semantic" only',
    path: ['threshold'],
  });

/** An embedding job's own `cache`: vectors are cached per input string, so exact is the only mode. */
export const embeddingJobCacheSchema = z.strictObject({
  mode: z.enum(['exact', 'off'], { error: 'must be "exact" or "off" (embedding jobs are cached per input)' }),
  ttl_s: ttlSeconds.optional(),
});

export type JobCacheRequest = z.infer<typeof chatJobCacheSchema> | z.infer<typeof embeddingJobCacheSchema>;

const modelCacheRuleSchema = z.strictObject({
  mode: z.enum(['exact', 'semantic', 'off']),
  /** Default: `cache.ttl_s`. */
  ttl_s: ttlSeconds.optional(),
  /** Default: `cache.semantic.threshold`. */
  threshold: similarityThreshold.optional(),
});

const semanticCacheSchema = z.strictObject({
  /** `provider/model` that embeds prompts, called through the normal adapters. */
  embedding_model: z.string().min(1),
  /** Vector length asked of the embedding model; fewer dimensions make lookups faster. Default: the model's. */
  dimensions: z.number().int().positive().max(4096).optional(),
  /** Least cosine similarity that answers from a stored prompt. Default 0.95. */
  threshold: similarityThreshold.default(0.95),
  /**
   * Prompts kept per (tenant, model, parameters) scope; storing one more drops the entry that
   * expires first (with one TTL: the oldest). Lookups compare against all of them. Default 1000.
   */
  max_entries_per_scope: z.number().int().positive().max(100_000).default(1000),
  /** Time limit of the embedding call, ms; a slower call is a miss. Default 10000. */
  timeout_ms: z.number().int().positive().max(120_000).default(10_000),
});

/** The config file's `cache:` section. */
export const cacheConfigSchema = z
  .strictObject({
    /**
     * Defaults per provider/model, glob allowed (as in `limits:`). Applied only to requests that
     * are deterministic enough (see `isDeterministicRequest`); a job's own `cache` wins.
     */
    models: z.record(z.string().min(1), modelCacheRuleSchema).default({}),
    /** Lifetime of an entry when neither the job nor its model rule sets one, seconds. Default 86400. */
    ttl_s: ttlSeconds.default(86_400),
    /**
     * Exact entries (chat answers, embedding vectors) are shared by all tenants. Default false:
     * each tenant has its own. Semantic entries are never shared.
     */
    share_across_tenants: z.boolean().default(false),
    /** Needed by mode "semantic"; without it semantic jobs are refused at submit. */
    semantic: semanticCacheSchema.optional(),
  })
  .refine(
    (cache) => cache.semantic !== undefined || Object.values(cache.models).every((rule) => rule.mode !== 'semantic'),
    { message: 'a "semantic" model rule needs the cache.semantic section (embedding_model)', path: ['models'] },
  )
  .prefault({});

export type CacheConfig = z.infer<typeof cacheConfigSchema>;
export type SemanticCacheConfig = NonNullable<CacheConfig['semantic']>;
