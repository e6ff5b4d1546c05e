import { isIPv4 } from 'node:net';
import { z } from 'zod';
import { formatValidationError, redisUrlSchema, traceExportEnvSchema } from '@llmq/core';

const optionalText = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value));

const envSchema = z.object({
  /** One node (`redis://`, `rediss://`) or a cluster (`redis-cluster://host:port,host:port`). */
  REDIS_URL: redisUrlSchema,
  LLMQ_CONFIG: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Jobs one worker process runs at once. Calls are I/O-bound, so the default is high: 64. */
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(100_000).default(64),
  /** BullMQ lock of a running job, ms; renewed every half of it while the call runs. Default 60 s. */
  LLMQ_LOCK_DURATION_MS: z.coerce.number().int().positive().default(60_000),
  /** How often stalled jobs (their worker died) are looked for and handed to another worker, ms. Default 30 s. */
  LLMQ_STALLED_INTERVAL_MS: z.coerce.number().int().positive().default(30_000),
  /**
   * Times a job may lose its worker (killed, or too busy to renew its lock) before BullMQ fails it
   * for good; its record is then failed `internal` (see final-failure-watch). Default 10: a
   * redeploy kills workers, and a job unlucky enough to be on several of them must not fail for it.
   */
  LLMQ_MAX_STALLED_COUNT: z.coerce.number().int().min(0).default(10),
  /** Every tenant's outbox of job ends is read at least this often (besides each end's nudge), ms. Default 2 s. */
  LLMQ_OUTBOX_SWEEP_MS: z.coerce.number().int().positive().default(2_000),
  /** An outbox entry a worker took and never acknowledged (it died) is taken over after this long, ms. Default 30 s. */
  LLMQ_OUTBOX_CLAIM_IDLE_MS: z.coerce.number().int().positive().default(30_000),
  /** Time between two reconciler passes (one worker at a time), ms. Default 60 s. */
  LLMQ_RECONCILE_INTERVAL_MS: z.coerce.number().int().positive().default(60_000),
  /** Age before the reconciler judges a record or a finished queue entry, ms. Default 60 s. */
  LLMQ_RECONCILE_GRACE_MS: z.coerce.number().int().min(0).default(60_000),
  /** How long a job's end or a paid answer is kept in memory and retried while Redis refuses writes, ms. Default 10 min. */
  LLMQ_REDIS_PATIENCE_MS: z.coerce.number().int().positive().default(600_000),
  /** Pause before a run that Redis refused runs again (it uses none of the job's attempts), ms. Default 2 s. */
  LLMQ_REDIS_RETRY_DELAY_MS: z.coerce.number().int().positive().default(2_000),
  /** Consecutive failures that open a model's circuit. Default 5. */
  LLMQ_CIRCUIT_FAILURES: z.coerce.number().int().positive().default(5),
  /** Failure rate (0-1) that opens a circuit once a minute has 20 calls. Default 0.5. */
  LLMQ_CIRCUIT_FAILURE_RATE: z.coerce.number().gt(0).max(1).default(0.5),
  /** How long an open circuit sends jobs elsewhere before probing, ms. Default 30 s. */
  LLMQ_CIRCUIT_OPEN_MS: z.coerce.number().int().positive().default(30_000),
  /** How often the worker logs calls in flight, event-loop delay and memory, ms. Default 60 s. */
  LLMQ_STATS_INTERVAL_MS: z.coerce.number().int().positive().default(60_000),
  /** How long SIGTERM waits for calls in flight before the worker exits anyway, ms. Default 60 s. */
  LLMQ_SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(60_000),
  /**
   * The worker exits (for its supervisor to restart it) when jobs wait and none has finished for
   * this long, ms. Default 10 minutes; 0 turns the watchdog off.
   */
  LLMQ_WATCHDOG_MS: z.coerce.number().int().min(0).default(600_000),
  /** How often the watchdog looks, ms. Default 30 s. */
  LLMQ_WATCHDOG_INTERVAL_MS: z.coerce.number().int().positive().default(30_000),
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
  ANTHROPIC_API_KEY: optionalText,
  ANTHROPIC_BASE_URL: optionalText.pipe(z.url().optional()),
  GEMINI_API_KEY: optionalText,
  GEMINI_BASE_URL: optionalText.pipe(z.url().optional()),
  /**
   * Port of this worker's Prometheus `/metrics`. Default 9464; 0 picks a free port (logged);
   * "off" serves none. Workers sharing a machine need one port each.
   */
  WORKER_METRICS_PORT: z
    .union([z.literal('off'), z.coerce.number().int().min(0).max(65_535)], {
      error: 'must be a port number or "off"',
    })
    .default(9464),
  /**
   * Interface of the metrics port. Default 127.0.0.1 (this machine only); any other interface,
   * e.g. 0.0.0.0 for a Prometheus on another machine, requires LLMQ_METRICS_TOKEN.
   */
  WORKER_METRICS_HOST: z.string().trim().min(1).default('127.0.0.1'),
  /** Bearer token the metrics port requires. Default: none (the port then only listens on loopback). */
  LLMQ_METRICS_TOKEN: optionalText,
  /** Distinct tenants one worker labels its per-tenant metrics with; later ones count as "other". Default 100. */
  LLMQ_METRICS_MAX_TENANTS: z.coerce.number().int().min(0).max(100_000).default(100),
  /** Start even when Redis may evict keys (maxmemory-policy not noeviction), with a loud warning. Default: false. */
  LLMQ_ALLOW_EVICTION: z
    .enum(['true', 'false', '1', '0', 'yes', 'no', ''], { error: 'must be true or false' })
    .default('false')
    .transform((value) => value === 'true' || value === '1' || value === 'yes'),
  /** OpenTelemetry traces (README, "Tracing"): off unless an OTLP endpoint is set. */
  ...traceExportEnvSchema('llmq-worker'),
});

// Metrics name models and tenants: another machine may read them only with the token.
const checkedEnvSchema = envSchema.superRefine((env, context) => {
  if (env.WORKER_METRICS_PORT === 'off' || env.LLMQ_METRICS_TOKEN !== undefined) return;
  if (isLoopback(env.WORKER_METRICS_HOST)) return;
  context.addIssue({
    code: 'custom',
    path: ['WORKER_METRICS_HOST'],
    message: `${env.WORKER_METRICS_HOST} is not a loopback address: set LLMQ_METRICS_TOKEN to serve metrics beyond this machine`,
  });
});

function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return bare === 'localhost' || bare === '::1' || (isIPv4(bare) && bare.startsWith('127.'));
}

export type WorkerEnv = z.infer<typeof envSchema>;

export function parseWorkerEnv(env: NodeJS.ProcessEnv): WorkerEnv {
  const parsed = checkedEnvSchema.safeParse(env);
  if (!parsed.success) throw new Error(`invalid environment: ${formatValidationError(parsed.error)}`);
  return parsed.data;
}
