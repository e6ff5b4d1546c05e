import type { ChatCompletionResult, EmbeddingResult } from '../providers/chat-completion.js';
import type { ProviderErrorKind } from '../providers/provider-error.js';
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

export interface JobUsage {
  input_tokens: number;
  output_tokens: number;
}

/** What `GET /v1/jobs/{id}` returns. Timestamps are Unix seconds. */
export interface JobObject {
  id: string;
  object: 'job';
  type: JobType;
  status: JobStatus;
  /** The model as submitted (`provider/model` or an alias). */
  model: string;
  fallbacks: string[];
  /** Provider calls started so far. */
  attempts: number;
  metadata: Record<string, string>;
  webhook: { url: string } | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  /** `rate_limit` while a queued job waits for its turn under the provider's limits. */
  waiting_for: 'rate_limit' | null;
  /** While waiting: the earliest time (Unix seconds) it will start. */
  earliest_start_at: number | null;
  result: ChatCompletionResult | EmbeddingResult | null;
  error: JobError | null;
  usage: JobUsage | null;
}
