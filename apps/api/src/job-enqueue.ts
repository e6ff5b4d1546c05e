import {
  bullmqAttempts,
  DEFAULT_RANK,
  jobRank,
  promptPrefixDigest,
  embeddingInputs,
  estimateJobTokens,
  resolveModel,
  type JobSubmission,
  type LlmJobData,
  type ModelCatalog,
} from '@llmq/core';
import type { JobPolicy } from './config.js';
import { HttpError } from './http-error.js';

export interface EnqueuePlan {
  data: LlmJobData;
  attempts: number;
}

/** A deferrable job's deadline unless it sets one: its completion window. */
const DEFERRABLE_DEADLINE_SECONDS = 24 * 3600;

/** A long chat prompt's prefix digest: where the provider has accounts, it picks one whose cache has it. */
function prefixOf(submission: JobSubmission): { prefix?: string } {
  if (submission.type !== 'chat') return {};
  const prefix = promptPrefixDigest(submission.request);
  return prefix === undefined ? {} : { prefix };
}

/** Checks a job's overrides against this deployment's bounds and builds what BullMQ carries. */
export async function planEnqueue(options: {
  tenant: string;
  jobId: string;
  createdAt: number;
  submission: JobSubmission;
  catalog: ModelCatalog;
  policy: JobPolicy;
  defaultOutputTokens: number;
}): Promise<EnqueuePlan> {
  const { submission, policy } = options;
  const bound = (field: string, value: number | undefined, max: number) => {
    if (value !== undefined && value > max) {
      throw new HttpError(400, 'invalid_request', `${field}: at most ${max} on this deployment`);
    }
  };
  bound('attempts', submission.attempts, policy.maxAttemptsPerModel);
  bound('timeout_s', submission.timeout_s, policy.maxAttemptTimeoutSeconds);
  bound('deadline_s', submission.deadline_s, policy.maxDeadlineSeconds);

  const attemptsPerModel = submission.attempts ?? policy.attemptsPerModel;
  // Work that may wait a day has a day, as far as the deployment allows.
  const defaultDeadline = submission.completion_window
    ? Math.min(DEFERRABLE_DEADLINE_SECONDS, policy.maxDeadlineSeconds)
    : policy.deadlineSeconds;
  let chainLength = 0;
  for (const name of [submission.request.model, ...(submission.fallbacks ?? [])]) {
    const resolution = resolveModel(options.catalog, name);
    chainLength += resolution.ok ? resolution.chain.length : 1;
  }
  return {
    attempts: bullmqAttempts(attemptsPerModel, chainLength),
    data: {
      tenant: options.tenant,
      jobId: options.jobId,
      type: submission.type,
      model: submission.request.model,
      tokens: await estimateJobTokens(submission, options.catalog, options.defaultOutputTokens),
      ...(submission.type === 'embedding' ? { inputs: embeddingInputs(submission.request).length } : {}),
      ...(submission.fallbacks?.length ? { fallbacks: submission.fallbacks } : {}),
      ...prefixOf(submission),
      ...(submission.cache ? { cacheMode: submission.cache.mode } : {}),
      attemptsPerModel,
      attemptTimeoutMs: Math.round((submission.timeout_s ?? policy.attemptTimeoutSeconds) * 1000),
      deadlineAt: options.createdAt + Math.round((submission.deadline_s ?? defaultDeadline) * 1000),
      ...(submission.completion_window ? { deferrable: true } : {}),
      ...(jobRank(submission) !== DEFAULT_RANK ? { rank: jobRank(submission) } : {}),
    },
  };
}
