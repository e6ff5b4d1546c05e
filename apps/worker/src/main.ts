import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import {
  createLogger,
  createModelCatalog,
  createProviders,
  JobStore,
  LimitRules,
  LLM_QUEUE_NAME,
  loadLlmqConfig,
  QUEUE_PREFIX,
  RateLimiter,
  type LlmJobData,
} from '@llmq/core';
import { parseWorkerEnv } from './config.js';
import { LimiterGate } from './limiter-gate.js';
import { createLlmJobProcessor, type LlmJobReturn } from './llm-job-processor.js';
import { ModelRouter } from './model-router.js';

async function main(): Promise<void> {
  const env = parseWorkerEnv(process.env);
  const logger = createLogger({ name: 'worker', level: env.LOG_LEVEL });
  const config = await loadLlmqConfig(env.LLMQ_CONFIG);
  const catalog = createModelCatalog(config);
  const providers = createProviders({
    config,
    builtIn: { openai: { apiKey: env.OPENAI_API_KEY, baseURL: env.OPENAI_BASE_URL } },
    secret: (variable) => process.env[variable],
  });

  const redis = new Redis(env.REDIS_URL, { maxRetriesPerRequest: null, enableAutoPipelining: true });
  const store = new JobStore({ redis, retentionMs: env.LLMQ_RETENTION_SECONDS * 1000 });
  const processor = createLlmJobProcessor({
    store,
    router: new ModelRouter({ catalog, providers }),
    catalog,
    gate: new LimiterGate({ limiter: new RateLimiter(redis), rules: new LimitRules(config) }),
    logger,
    redis,
    providerTimeoutMs: env.LLMQ_PROVIDER_TIMEOUT_MS,
    streamIdleTimeoutMs: env.LLMQ_STREAM_IDLE_TIMEOUT_MS,
  });
  const worker = new Worker<LlmJobData, LlmJobReturn>(LLM_QUEUE_NAME, processor, {
    connection: new Redis(env.REDIS_URL, { maxRetriesPerRequest: null }),
    prefix: QUEUE_PREFIX,
    concurrency: env.WORKER_CONCURRENCY,
  });
  worker.on('error', (error) => logger.error({ err: error }, 'worker error'));
  await worker.waitUntilReady();
  logger.info({ concurrency: env.WORKER_CONCURRENCY, providers: [...providers.keys()] }, 'worker ready');

  const shutdown = async (signal: string) => {
    logger.info({ signal }, 'worker draining');
    await worker.close();
    await redis.quit().catch(() => undefined);
    logger.info('worker stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
