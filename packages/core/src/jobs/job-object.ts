import type { JobSpendObject } from '../cost/job-spend.js';
import type { PricedUsage } from '../cost/price-table.js';
import type { ChatCompletionResult, EmbeddingResult, TokenUsage } from '../providers/chat-completion.js';
import type { ProviderErrorKind } from '../providers/provider-error.js';
import type { JobWebhook } from '../webhooks/webhook-delivery-state.js';
import type { JobType } from './job-submission-schema.js';

export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'canceled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const ENDED_STATUSES: ReadonlySet<JobStatus> = new Set(['succeeded', 'failed', 'canceled']);

export function isEnded(status: JobStatus): boolean {
  return ENDED_STATUSES.has(status);
}

/** The error a failed job reports. */
export interface JobError {
  type: ProviderErrorKind | 'internal';
  message: string;
  provider?: string;
  status?: number;
}

/** Why a queued job is held back. */
export type WaitReason = 'rate_limit' | 'fair_share' | 'circuit_open' | 'provider_batch';

/** One provider call of a job, as `attempt_log` shows it. */
export interface AttemptLogEntry {
  /** `provider/model` called. */
  model: string;
  status: 'succeeded' | 'failed';
  /** Unix seconds, with milliseconds. */
  started_at: number;
  duration_ms: number;
  /** The provider account called, for a provider with accounts (its name, never its key). */
  account?: string;
  error?: JobError;
}

/**
 * A job's tokens, priced as they are: `cached_input_tokens` (part of `input_tokens`) at the
 * cached-input price. It is left out when the provider served none of the prompt from its cache.
 */
export type JobUsage = PricedUsage;

/** The job usage of a chat answer. */
export function chatJobUsage(usage: TokenUsage): JobUsage {
  const cached = usage.prompt_tokens_details?.cached_tokens ?? 0;
  return {
    input_tokens: usage.prompt_tokens,
    output_tokens: usage.completion_tokens,
    // Only when some were cached, so that a job without cache reads keeps the usage it always had.
    ...(cached > 0 ? { cached_input_tokens: cached } : {}),
  };
}

/** What `GET /v1/jobs/{id}` returns. Timestamps are Unix seconds. Cost and cache fields: see JobSpendObject. */
export interface JobObject extends JobSpendObject {
  id: string;
  object: 'job';
  type: JobType;
  status: JobStatus;
  /** The model as submitted (`provider/model` or an alias). */
  model: string;
  fallbacks: string[];
  /** Provider calls started so far. */
  attempts: number;
  /** Every provider call: which model, how it ended, how long it took. */
  attempt_log: AttemptLogEntry[];
  /** `provider/model` that produced the result (differs from `model` after a fallback). */
  answered_by: string | null;
  /** The provider account that produced the result (its name); null without accounts. */
  account: string | null;
  metadata: Record<string, string>;
  /** Where the job's end is posted, and how the deliveries went; null without a webhook. */
  webhook: JobWebhook | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  /**
   * Set while a queued job is held back: `rate_limit` (its turn under the provider's limits),
   * `circuit_open` (its model is failing and it has no fallback left) or `provider_batch` (a
   * deferrable job gathered into, or waiting on, its provider's batch).
   */
  waiting_for: WaitReason | null;
  /** While waiting: the earliest time (Unix seconds) it will start. */
  earliest_start_at: number | null;
  /** A deferrable job's provider batch once sent: the provider's batch id and when it was sent (Unix seconds). */
  provider_batch: { id: string; sent_at: number } | null;
  result: ChatCompletionResult | EmbeddingResult | null;
  error: JobError | null;
  usage: JobUsage | null;
}
