import {
  CachePolicy,
  ExactCache,
  formatModelName,
  JobAccounting,
  PriceTable,
  RedisSemanticIndex,
  SpendCounters,
  type JobStore,
  type LlmqConfig,
  type Logger,
  type ModelCatalog,
  type SpendObserver,
} from '@llmq/core';
import type { Redis } from 'ioredis';
import type { LimiterGate } from '../limiter-gate.js';
import type { ModelRouter } from '../model-router.js';
import { JobCache } from './job-cache.js';
import { JobSpendHooks } from './job-spend-hooks.js';
import { SemanticPromptEmbedder } from './semantic-prompt-embedder.js';

/**
 * The worker's cost accounting and response cache, from the config file's `cache:` and
 * `prices:` sections. `counters` holds the running cache and cost figures of this process for
 * a metrics endpoint to read; `observer` (default: `counters`) receives every event.
 */
export function createWorkerSpend(options: {
  config: Pick<LlmqConfig, 'cache' | 'prices'>;
  redis: Redis;
  store: JobStore;
  router: ModelRouter;
  gate: LimiterGate;
  catalog: ModelCatalog;
  logger: Logger;
  observer?: SpendObserver;
}) {
  const { config, redis, logger } = options;
  const counters = new SpendCounters();
  const observer = options.observer ?? counters;
  const accounting = new JobAccounting({ prices: new PriceTable({ configured: config.prices }) });
  const semanticConfig = config.cache.semantic;
  const cache = new JobCache({
    redis,
    policy: new CachePolicy(config.cache),
    catalog: options.catalog,
    logger,
    observer,
    ...(semanticConfig
      ? {
          semantic: {
            index: new RedisSemanticIndex(redis),
            maxEntries: semanticConfig.max_entries_per_scope,
            embedder: new SemanticPromptEmbedder({
              router: options.router,
              gate: options.gate,
              cache: new ExactCache(redis),
              accounting,
              redis,
              logger,
              config: semanticConfig,
              ttlMs: config.cache.ttl_s * 1000,
            }),
          },
        }
      : {}),
  });
  const embeddingModel = semanticConfig && options.router.chain(semanticConfig.embedding_model)[0];
  if (embeddingModel && accounting.prices.priceOf(formatModelName(embeddingModel)) === null) {
    logger.warn(
      { model: formatModelName(embeddingModel) },
      'the semantic cache embedding model has no price: its calls are counted but not charged',
    );
  }
  return { cache, counters, hooks: new JobSpendHooks({ store: options.store, accounting, cache, logger }) };
}
