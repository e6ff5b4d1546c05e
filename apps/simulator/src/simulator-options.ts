import { z } from 'zod';
import type { Account } from './accounts.js';
import type { FaultRule } from './fault-rules.js';
import type { RateLimits } from './rate-limiter.js';

export const rateLimitSchema = z.strictObject({
  rpm: z.int().min(1).optional(),
  tpm: z.int().min(1).optional(),
});
export const rateLimitsSchema = z.record(z.string().min(1), rateLimitSchema);

/** Settings that can change while the simulator runs (`PUT /_sim/config`, `configure`). */
export const settingsUpdateSchema = z.strictObject({
  latencyMs: z.number().min(0).optional(),
  jitterMs: z.number().min(0).optional(),
  chunkDelayMs: z.number().min(0).optional(),
  /** Replaces all limits; null or {} removes them. Windows and their maxima are kept. */
  limits: rateLimitsSchema.nullable().optional(),
  /** Replaces the accepted keys; null accepts any non-empty key again. */
  apiKeys: z.array(z.string().min(1)).nullable().optional(),
  /** Applies to batches created afterwards. */
  batchProcessingMs: z.number().min(0).optional(),
  /** Applies to batches created afterwards. */
  batchExpiryMs: z.number().min(0).optional(),
  /** Applies to OpenAI batches created afterwards; null removes the bound. */
  batchEnqueuedTokens: z.number().int().positive().nullable().optional(),
});
export type SettingsUpdate = z.infer<typeof settingsUpdateSchema>;

export interface SimulatorOptions {
  /** Wait before a successful answer, ms. Default 0: answer synchronously, no timer at all. */
  latencyMs?: number;
  /** Extra wait drawn uniformly from [0, jitterMs), added to `latencyMs`. Default 0. */
  jitterMs?: number;
  /** Pause between streamed chunks, ms. Default 0: the whole stream in one write. */
  chunkDelayMs?: number;
  /** Accepted API keys. Default: any non-empty key. Excludes `accounts`. */
  apiKeys?: readonly string[];
  /**
   * Provider accounts (see `accounts.ts`): only their keys are accepted, each organisation's keys
   * share one rate window with the org's limits, and each key has its own prompt cache. Excludes
   * `apiKeys`. Default: none, and the prompt cache is off.
   */
  accounts?: readonly Account[];
  /** Per-model limits, "*" for all models together. Default: none. */
  limits?: RateLimits;
  /** Fault rules active from the start. Default: none. */
  faults?: readonly FaultRule[];
  /** Request-log entries kept (oldest dropped first). Default 200,000. */
  requestLogCapacity?: number;
  /** Largest request body accepted, bytes. Default 32 MiB. */
  maxBodyBytes?: number;
  /**
   * How long a batch takes from start to its last line, ms; lines finish evenly spread over it.
   * Default 1000. 0 answers every line at once (in chunks that yield to the event loop).
   */
  batchProcessingMs?: number;
  /** A batch still running this long after creation ends expired, ms. Default 24 h. */
  batchExpiryMs?: number;
  /**
   * Prompt tokens one model's OpenAI batches may have in progress at once (OpenAI's enqueued
   * token limit): a batch that would pass it fails validation with `token_limit_exceeded`.
   * Default: no bound.
   */
  batchEnqueuedTokens?: number;
  /** Batches kept per provider; the oldest ended one is dropped for a new one. Default 1000. */
  maxBatches?: number;
  /** Bytes of OpenAI files kept (inputs and outputs); the oldest files go first. Default 1 GiB. */
  maxStoredFileBytes?: number;
  /** Monotonic clock for rate windows, ms. Default `performance.now`; injectable for tests. */
  clock?: () => number;
  /** Called with unexpected errors (a bug, not bad input). Default: one JSON line on stderr. */
  onError?: (error: unknown) => void;
}

/** The live, resolved settings the pipeline reads on every request. */
export interface SimulatorSettings {
  latencyMs: number;
  jitterMs: number;
  chunkDelayMs: number;
  /** Undefined = any non-empty key. */
  apiKeys: ReadonlySet<string> | undefined;
  batchProcessingMs: number;
  batchExpiryMs: number;
  /** Undefined: no bound. */
  batchEnqueuedTokens: number | undefined;
}

/** Default `batchProcessingMs`: fast, but long enough to see a batch in progress. */
export const DEFAULT_BATCH_PROCESSING_MS = 1000;
/** Default `batchExpiryMs`: OpenAI's and Anthropic's 24-hour window. */
export const DEFAULT_BATCH_EXPIRY_MS = 24 * 60 * 60 * 1000;

/** Settings as `GET /_sim/config` shows them: keys are counted, never echoed. */
export interface SettingsView {
  latencyMs: number;
  jitterMs: number;
  chunkDelayMs: number;
  limits: RateLimits;
  /** Number of accepted keys; null = any non-empty key. */
  apiKeyCount: number | null;
  batchProcessingMs: number;
  batchExpiryMs: number;
  batchEnqueuedTokens: number | null;
}

/** The settings `options` start with; throws when they contradict each other. */
export function resolveSettings(options: SimulatorOptions): SimulatorSettings {
  if (options.apiKeys !== undefined && options.accounts !== undefined) {
    throw new Error('apiKeys and accounts exclude each other: the accounts are the accepted keys');
  }
  const apiKeys = options.accounts?.map((account) => account.key) ?? options.apiKeys;
  const parsed = settingsUpdateSchema.parse({
    latencyMs: options.latencyMs,
    jitterMs: options.jitterMs,
    chunkDelayMs: options.chunkDelayMs,
    limits: options.limits,
    apiKeys: apiKeys === undefined ? undefined : [...apiKeys],
    batchProcessingMs: options.batchProcessingMs,
    batchExpiryMs: options.batchExpiryMs,
    batchEnqueuedTokens: options.batchEnqueuedTokens,
  });
  return {
    latencyMs: parsed.latencyMs ?? 0,
    jitterMs: parsed.jitterMs ?? 0,
    chunkDelayMs: parsed.chunkDelayMs ?? 0,
    apiKeys: parsed.apiKeys ? new Set(parsed.apiKeys) : undefined,
    batchProcessingMs: parsed.batchProcessingMs ?? DEFAULT_BATCH_PROCESSING_MS,
    batchExpiryMs: parsed.batchExpiryMs ?? DEFAULT_BATCH_EXPIRY_MS,
    batchEnqueuedTokens: parsed.batchEnqueuedTokens ?? undefined,
  };
}

/** Applies a validated update in place; fields left out keep their value. */
export function applySettingsUpdate(settings: SimulatorSettings, update: SettingsUpdate): void {
  if (update.latencyMs !== undefined) settings.latencyMs = update.latencyMs;
  if (update.jitterMs !== undefined) settings.jitterMs = update.jitterMs;
  if (update.chunkDelayMs !== undefined) settings.chunkDelayMs = update.chunkDelayMs;
  if (update.apiKeys !== undefined) settings.apiKeys = update.apiKeys ? new Set(update.apiKeys) : undefined;
  if (update.batchProcessingMs !== undefined) settings.batchProcessingMs = update.batchProcessingMs;
  if (update.batchExpiryMs !== undefined) settings.batchExpiryMs = update.batchExpiryMs;
  if (update.batchEnqueuedTokens !== undefined) settings.batchEnqueuedTokens = update.batchEnqueuedTokens ?? undefined;
}
