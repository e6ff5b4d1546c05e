import { z } from 'zod';
import { formatValidationError } from '@llmq/core';

const optionalText = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value));

const envSchema = z.object({
  REDIS_URL: z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' }),
  LLMQ_CONFIG: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Jobs one worker process runs at once. Calls are I/O-bound, so the default is high: 64. */
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(100_000).default(64),
  /** Time limit of one provider call, ms. Default 10 minutes: long generations take minutes. */
  LLMQ_PROVIDER_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .positive()
    .default(10 * 60 * 1000),
  /**
   * Longest silence between two streamed chunks, ms. Default 5 minutes: reasoning models can
   * think quietly for minutes before the first token.
   */
  LLMQ_STREAM_IDLE_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .positive()
    .default(5 * 60 * 1000),
  /** How long ended jobs stay readable, seconds. Default 7 days. */
  LLMQ_RETENTION_SECONDS: z.coerce
    .number()
    .int()
    .positive()
    .default(7 * 24 * 60 * 60),
  OPENAI_API_KEY: optionalText,
  OPENAI_BASE_URL: optionalText.pipe(z.url().optional()),
});

export type WorkerEnv = z.infer<typeof envSchema>;

export function parseWorkerEnv(env: NodeJS.ProcessEnv): WorkerEnv {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) throw new Error(`invalid environment: ${formatValidationError(parsed.error)}`);
  return parsed.data;
}
