import { z } from 'zod';

/**
 * The `batching` section of the config file: how deferrable jobs (`completion_window: "24h"`) are
 * gathered into provider batches, polled, and rescued when a batch runs late.
 */
export const batchingConfigSchema = z
  .strictObject({
    /** Longest the oldest job of a group waits to be sent, seconds. */
    max_wait_s: z.number().positive().max(86_400).default(60),
    /** Most requests in one provider batch; a provider's own bound applies when it is lower. */
    max_requests: z.number().int().positive().max(100_000).default(10_000),
    /** Most bytes of request lines in one provider batch (OpenAI's file limit is 200 MB). */
    max_bytes: z
      .number()
      .int()
      .positive()
      .max(200 * 1024 * 1024)
      .default(100 * 1024 * 1024),
    /** First poll of a sent batch after this many seconds; each later one waits twice as long, up to `poll_max_s`. */
    poll_first_s: z.number().positive().max(3_600).default(5),
    poll_max_s: z.number().positive().max(3_600).default(300),
    /**
     * A job whose answer has not come by its deadline minus this margin leaves its batch (the batch is
     * canceled) and runs synchronously under the limiter, with its fallbacks, seconds.
     */
    deadline_margin_s: z.number().nonnegative().max(86_400).default(1_800),
    /** Share of the listed price a batch answer costs (the providers charge half). */
    price_factor: z.number().gt(0).max(1).default(0.5),
    /**
     * Lines of an OpenAI-style batch (`POST /v1/batches`): `defer` makes each a deferrable job
     * (provider batches at the batch price, where the provider has a batch API); `run` makes them
     * ordinary jobs, run as soon as the limits allow, at the listed price.
     */
    batch_api_lines: z.enum(['defer', 'run']).default('defer'),
    /**
     * Providers whose flex tier is the step between batch and standard: a deferrable job that left
     * its batch makes its first call to each of their models at `service_tier: "flex"` (half price,
     * best effort; OpenAI and Gemini have one), and its retries at the standard tier.
     */
    flex: z
      .array(z.enum(['openai', 'google']))
      .max(2)
      .default([]),
  })
  .prefault({});

export type BatchingConfig = z.infer<typeof batchingConfigSchema>;

/** Providers with a batch API llmq speaks; a custom provider runs deferrable jobs the normal way. */
export const BATCH_PROVIDERS = ['openai', 'anthropic', 'google'] as const;
export type BatchProvider = (typeof BATCH_PROVIDERS)[number];
export const isBatchProvider = (provider: string): provider is BatchProvider =>
  (BATCH_PROVIDERS as readonly string[]).includes(provider);

/** What the lines of an OpenAI-style batch become (`batching.batch_api_lines`). */
export type BatchLines = BatchingConfig['batch_api_lines'];
