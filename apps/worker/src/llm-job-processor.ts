import { UnrecoverableError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  createJobSubmissionSchema,
  PartialOutputWriter,
  formatValidationError,
  ProviderError,
  type JobError,
  type JobStore,
  type LlmJobData,
  type Logger,
  type ModelCatalog,
} from '@llmq/core';
import type { ModelRouter } from './model-router.js';
import { runChatJob, type JobOutcome } from './run-chat-job.js';
import { runEmbeddingJob } from './run-embedding-job.js';

export interface LlmJobProcessorOptions {
  store: JobStore;
  router: ModelRouter;
  catalog: ModelCatalog;
  logger: Logger;
  /** Publishes streamed output for SSE clients. */
  redis: Redis;
  /** Time limit of one provider call, ms. */
  providerTimeoutMs: number;
  /** Longest silence between two streamed chunks, ms. */
  streamIdleTimeoutMs: number;
}

/** What BullMQ keeps as the job's return value; the result itself lives in the job record. */
export interface LlmJobReturn {
  status: 'succeeded' | 'skipped';
}

function toJobError(error: ProviderError): JobError {
  return {
    type: error.kind,
    message: error.message,
    provider: error.provider,
    ...(error.status !== undefined ? { status: error.status } : {}),
  };
}

function asProviderError(error: unknown): ProviderError {
  if (error instanceof ProviderError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ProviderError({ provider: 'llmq', kind: 'provider_error', message, cause: error });
}

/** The BullMQ processor of the LLM queue: record -> provider call -> record. */
export function createLlmJobProcessor(options: LlmJobProcessorOptions) {
  const { store, router, logger } = options;
  const submissionSchema = createJobSubmissionSchema(options.catalog);

  return async function processLlmJob(job: Job<LlmJobData>): Promise<LlmJobReturn> {
    const { tenant, jobId } = job.data;
    const log = logger.child({ jobId, tenant, attempt: job.attemptsMade + 1 });
    const start = await store.transition({
      tenant,
      jobId,
      to: 'running',
      // `running` too: a job whose worker died is picked up again by another one.
      from: ['queued', 'running'],
      fields: { '+attempts': 1, '?started_at': Date.now() },
      returnRecord: true,
    });
    if (start.outcome !== 'ok' || start.record === null) {
      log.info({ outcome: start.outcome }, 'job skipped: no longer runnable');
      return { status: 'skipped' };
    }

    const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    try {
      const parsed = submissionSchema.safeParse(start.record.submission);
      if (!parsed.success) {
        throw new ProviderError({
          provider: 'llmq',
          kind: 'invalid_request',
          message: formatValidationError(parsed.error),
        });
      }
      const submission = parsed.data;
      const [reference] = router.chain(submission.request.model, submission.fallbacks);
      if (reference === undefined)
        throw new ProviderError({ provider: 'llmq', kind: 'invalid_request', message: 'no model' });
      const callOptions = { timeoutMs: options.providerTimeoutMs, idleTimeoutMs: options.streamIdleTimeoutMs };
      const started = performance.now();
      let outcome: JobOutcome<unknown>;
      if (submission.type === 'chat') {
        const partial = new PartialOutputWriter({
          redis: options.redis,
          tenant,
          jobId,
          attempt: start.record.attempts,
        });
        await partial.begin();
        try {
          outcome = await runChatJob(submission, router.chatModel(reference), {
            ...callOptions,
            onTextDelta: (delta) => partial.write(delta),
          });
        } finally {
          await partial.close();
        }
      } else {
        outcome = await runEmbeddingJob(submission, router.embeddingModel(reference), callOptions);
      }
      await store.transition({
        tenant,
        jobId,
        to: 'succeeded',
        from: ['running'],
        fields: {
          result: JSON.stringify(outcome.result),
          usage: JSON.stringify(outcome.usage),
          finished_at: Date.now(),
          '-error': '',
        },
      });
      log.info(
        { model: `${reference.provider}/${reference.modelId}`, ms: Math.round(performance.now() - started) },
        'job succeeded',
      );
      return { status: 'succeeded' };
    } catch (thrown) {
      const error = asProviderError(thrown);
      const final = lastAttempt || !error.retryable;
      await store.transition({
        tenant,
        jobId,
        to: final ? 'failed' : 'queued',
        from: ['running'],
        fields: final ? { error: JSON.stringify(toJobError(error)), finished_at: Date.now() } : {},
      });
      log.warn({ kind: error.kind, status: error.status, final, err: error.message }, 'provider call failed');
      if (final) throw new UnrecoverableError(`${error.kind}: ${error.message}`);
      throw error;
    }
  };
}
