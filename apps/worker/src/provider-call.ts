import type { Redis } from 'ioredis';
import {
  createJobSubmissionSchema,
  formatValidationError,
  PartialOutputWriter,
  ProviderError,
  type CallOptions,
  type ChatCompletionResult,
  type EmbeddingResult,
  type JobRecord,
  type ModelCatalog,
  type ModelReference,
} from '@llmq/core';
import { runCachedEmbeddingJob, type CacheSavings } from './cache/cached-embedding-run.js';
import type { JobCache } from './cache/job-cache.js';
import type { ModelRouter } from './model-router.js';
import { runChatJob, type JobOutcome } from './run-chat-job.js';
import { runEmbeddingJob } from './run-embedding-job.js';

/** One provider call for a job record: re-validates the submission, streams chat output to SSE. */
/** What one provider call gives back: the answer, its usage, and what the cache spared. */
export type ProviderCallOutcome = JobOutcome<ChatCompletionResult | EmbeddingResult> & { cacheSavings?: CacheSavings };

export function createProviderCall(options: {
  router: ModelRouter;
  catalog: ModelCatalog;
  redis: Redis;
  /** Embedding inputs the cache knows are not sent to the provider. Default: no cache. */
  cache?: JobCache;
}) {
  const submissionSchema = createJobSubmissionSchema(options.catalog);
  return async function callProvider(
    record: JobRecord,
    target: { reference: ModelReference; account?: string | undefined },
    callOptions: CallOptions,
  ): Promise<ProviderCallOutcome> {
    const parsed = submissionSchema.safeParse(record.submission);
    if (!parsed.success) {
      throw new ProviderError({
        provider: 'llmq',
        kind: 'invalid_request',
        message: formatValidationError(parsed.error),
      });
    }
    const submission = parsed.data;
    const { reference, account } = target;
    if (submission.type === 'embedding') {
      const model = options.router.embeddingModel(reference, account);
      return options.cache
        ? runCachedEmbeddingJob({ tenant: record.tenant, submission, model, cache: options.cache, callOptions })
        : runEmbeddingJob(submission, model, callOptions);
    }
    const partial = new PartialOutputWriter({
      redis: options.redis,
      tenant: record.tenant,
      jobId: record.id,
      attempt: record.attempts,
    });
    // Only a retry can find an earlier attempt's text to clear.
    if (record.attempts > 1) await partial.begin();
    try {
      return await runChatJob(submission, options.router.chatModel(reference, account), {
        ...callOptions,
        onTextDelta: (delta) => partial.write(delta),
      });
    } finally {
      await partial.close();
    }
  };
}
