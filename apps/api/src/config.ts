import { z } from 'zod';
import { formatValidationError, redisUrlSchema, traceExportEnvSchema } from '@llmq/core';

/** `tenant:key,tenant:key` -> key -> tenant. */
export function parseApiKeys(text: string): Map<string, string> {
  const keys = new Map<string, string>();
  for (const entry of text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)) {
    const colon = entry.indexOf(':');
    const tenant = entry.slice(0, colon);
    const key = entry.slice(colon + 1);
    if (colon <= 0 || key.length === 0) throw new Error('each entry must be "tenant:key"');
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(tenant))
      throw new Error(`tenant names are letters, digits, "_" and "-" (got "${tenant}")`);
    if (key.length < 16) throw new Error(`keys must be at least 16 characters (tenant "${tenant}")`);
    if (keys.has(key)) throw new Error(`a key is listed twice (tenant "${tenant}")`);
    keys.set(key, tenant);
  }
  if (keys.size === 0) throw new Error('no keys');
  return keys;
}

/** `true`/`1`/`yes` or `false`/`0`/`no`; unset is false. */
const flag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''], { error: 'must be true or false' })
  .default('false')
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

/** An empty variable (`LLMQ_ADMIN_TOKEN=` in a compose file) counts as unset. */
const unsetWhenEmpty = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === '' ? undefined : value), schema);

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
  HOST: z.string().default('0.0.0.0'),
  /** One node (`redis://`, `rediss://`) or a cluster (`redis-cluster://host:port,host:port`). */
  REDIS_URL: redisUrlSchema,
  LLMQ_API_KEYS: z.string({ error: 'is required: "tenant:key,tenant:key"' }).transform((text, context) => {
    try {
      return parseApiKeys(text);
    } catch (error) {
      context.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  }),
  LLMQ_CONFIG: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Largest request body, bytes. Default 4 MiB (room for a few data-URL images). */
  LLMQ_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(4 * 1024 * 1024),
  /** How long ended jobs stay readable, seconds. Default 7 days. */
  LLMQ_RETENTION_SECONDS: z.coerce
    .number()
    .int()
    .positive()
    .default(7 * 24 * 60 * 60),
  /** Provider calls per model before a job falls back or fails. Default 3; jobs may ask up to the max. */
  LLMQ_ATTEMPTS_PER_MODEL: z.coerce.number().int().min(1).max(10).default(3),
  LLMQ_MAX_ATTEMPTS_PER_MODEL: z.coerce.number().int().min(1).max(10).default(10),
  /** Time limit of one provider call, seconds. Default 600: long generations take minutes. */
  LLMQ_ATTEMPT_TIMEOUT_S: z.coerce.number().positive().max(3_600).default(600),
  LLMQ_MAX_ATTEMPT_TIMEOUT_S: z.coerce.number().positive().max(3_600).default(3_600),
  /** A job not done this long after submission fails with `timeout`. Default 1 day. */
  LLMQ_JOB_DEADLINE_S: z.coerce.number().positive().max(604_800).default(86_400),
  LLMQ_MAX_JOB_DEADLINE_S: z.coerce.number().positive().max(604_800).default(604_800),
  /** Guards the dashboard at /admin/queues. Default: none, and /admin answers 404. */
  LLMQ_ADMIN_TOKEN: unsetWhenEmpty(z.string().min(16, 'must be at least 16 characters').optional()),
  /** The dashboard shows but cannot retry, remove, pause or clean. Default: false. */
  LLMQ_ADMIN_READ_ONLY: flag,
  /** Bearer token /metrics requires. Default: none (open; keep the port private). */
  LLMQ_METRICS_TOKEN: unsetWhenEmpty(z.string().optional()),
  /**
   * Requests per second one tenant may make to /v1, across every API replica; 0 is no limit. Default:
   * 10,000, above what one API process serves, so it stops runaway clients, not real traffic.
   */
  LLMQ_API_RATE_LIMIT: z.coerce.number().int().min(0).default(10_000),
  /** Start even when Redis may evict keys (maxmemory-policy not noeviction), with a loud warning. Default: false. */
  LLMQ_ALLOW_EVICTION: flag,
  /** How long SIGTERM waits for requests in flight (a ?wait lasts up to 60 s), ms. Default: 65 s. */
  LLMQ_SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(65_000),
  /** Idle kept-alive connections close after this, ms. Default: 65 s (above common balancers' 60 s). */
  LLMQ_KEEP_ALIVE_TIMEOUT_MS: z.coerce.number().int().positive().default(65_000),
  /** Longest wait for a request's headers, ms. Default: 66 s (must exceed the keep-alive timeout). */
  LLMQ_HEADERS_TIMEOUT_MS: z.coerce.number().int().positive().default(66_000),
  /** Longest wait for a whole request to arrive (not for its answer: SSE and ?wait are not cut), ms. Default: 120 s. */
  LLMQ_REQUEST_TIMEOUT_MS: z.coerce.number().int().positive().default(120_000),
  /** A batch's completion window, seconds: jobs not ended by then are canceled and the batch is `expired`. Default 24 h. */
  LLMQ_BATCH_WINDOW_SECONDS: z.coerce.number().int().positive().default(86_400),
  /** OpenTelemetry traces (README, "Tracing"): off unless an OTLP endpoint is set. */
  ...traceExportEnvSchema('llmq-api'),
});

export type ApiEnv = z.infer<typeof envSchema>;

/** Defaults and bounds of the per-job `attempts`, `timeout_s` and `deadline_s`. */
export interface JobPolicy {
  attemptsPerModel: number;
  maxAttemptsPerModel: number;
  attemptTimeoutSeconds: number;
  maxAttemptTimeoutSeconds: number;
  deadlineSeconds: number;
  maxDeadlineSeconds: number;
}

export const DEFAULT_JOB_POLICY: JobPolicy = {
  attemptsPerModel: 3,
  maxAttemptsPerModel: 10,
  attemptTimeoutSeconds: 600,
  maxAttemptTimeoutSeconds: 3_600,
  deadlineSeconds: 86_400,
  maxDeadlineSeconds: 604_800,
};

export function jobPolicyFrom(env: ApiEnv): JobPolicy {
  return {
    attemptsPerModel: env.LLMQ_ATTEMPTS_PER_MODEL,
    maxAttemptsPerModel: env.LLMQ_MAX_ATTEMPTS_PER_MODEL,
    attemptTimeoutSeconds: env.LLMQ_ATTEMPT_TIMEOUT_S,
    maxAttemptTimeoutSeconds: env.LLMQ_MAX_ATTEMPT_TIMEOUT_S,
    deadlineSeconds: env.LLMQ_JOB_DEADLINE_S,
    maxDeadlineSeconds: env.LLMQ_MAX_JOB_DEADLINE_S,
  };
}

/** Parses the API's environment once; a bad variable stops the start with its name. */
export function parseApiEnv(env: NodeJS.ProcessEnv): ApiEnv {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) throw new Error(`invalid environment: ${formatValidationError(parsed.error)}`);
  return parsed.data;
}
