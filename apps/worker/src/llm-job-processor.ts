import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  createJobSubmissionSchema,
  formatModelName,
  formatValidationError,
  PartialOutputWriter,
  ProviderError,
  type CallOptions,
  type JobError,
  type JobRecord,
  type JobStore,
  type LlmJobData,
  type Logger,
  type ModelCatalog,
  type ModelReference,
} from '@llmq/core';
import type { LimiterGate, LimiterTicket } from './limiter-gate.js';
import type { ModelRouter } from './model-router.js';
import { runChatJob, type JobOutcome } from './run-chat-job.js';
import { runEmbeddingJob } from './run-embedding-job.js';

export interface LlmJobProcessorOptions {
  store: JobStore;
  router: ModelRouter;
  catalog: ModelCatalog;
  gate: LimiterGate;
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

/** The BullMQ processor of the LLM queue: limiter -> record -> provider call -> record. */
export function createLlmJobProcessor(options: LlmJobProcessorOptions) {
  const { store, router, logger, gate } = options;
  const submissionSchema = createJobSubmissionSchema(options.catalog);

  /** Provider calls a job needs: one for chat, one per provider batch for embeddings. */
  const callsFor = (data: LlmJobData, reference: ModelReference) =>
    data.type === 'embedding'
      ? Math.ceil((data.inputs ?? 1) / router.embeddingModel(reference).maxEmbeddingsPerCall)
      : 1;

  async function call(
    record: JobRecord,
    reference: ModelReference,
    callOptions: CallOptions,
  ): Promise<JobOutcome<unknown>> {
    const parsed = submissionSchema.safeParse(record.submission);
    if (!parsed.success) {
      throw new ProviderError({
        provider: 'llmq',
        kind: 'invalid_request',
        message: formatValidationError(parsed.error),
      });
    }
    const submission = parsed.data;
    if (submission.type === 'embedding') {
      return runEmbeddingJob(submission, router.embeddingModel(reference), callOptions);
    }
    const partial = new PartialOutputWriter({
      redis: options.redis,
      tenant: record.tenant,
      jobId: record.id,
      attempt: record.attempts,
    });
    await partial.begin();
    try {
      return await runChatJob(submission, router.chatModel(reference), {
        ...callOptions,
        onTextDelta: (delta) => partial.write(delta),
      });
    } finally {
      await partial.close();
    }
  }

  return async function processLlmJob(job: Job<LlmJobData>, token?: string): Promise<LlmJobReturn> {
    const data = job.data;
    const { tenant, jobId } = data;
    const log = logger.child({ jobId, tenant, attempt: job.attemptsMade + 1 });
    const [reference] = router.chain(data.model);
    if (reference === undefined) throw new UnrecoverableError('the job names no model');
    const model = formatModelName(reference);

    const decision = await gate.admit({
      model,
      tenant,
      requests: callsFor(data, reference),
      tokens: data.tokens,
      reservation: data.reservationAttempt === job.attemptsMade ? data.reservation : undefined,
    });
    if (!decision.admitted) {
      const earliestStart = Date.now() + decision.waitMs;
      const parked = await store.transition({
        tenant,
        jobId,
        to: 'queued',
        from: ['queued', 'running'],
        fields: { waiting_for: 'rate_limit', earliest_start_at: earliestStart },
      });
      if (parked.outcome !== 'ok') {
        await gate.release(decision.ticket);
        return { status: 'skipped' };
      }
      await job.updateData({ ...data, reservation: decision.reservation, reservationAttempt: job.attemptsMade });
      await job.moveToDelayed(earliestStart, token);
      log.debug({ model, waitMs: decision.waitMs }, 'waiting for the rate limit');
      throw new DelayedError();
    }
    const ticket: LimiterTicket | undefined = decision.ticket;

    const start = await store.transition({
      tenant,
      jobId,
      to: 'running',
      // `running` too: a job whose worker died is picked up again by another one.
      from: ['queued', 'running'],
      fields: { '+attempts': 1, '?started_at': Date.now(), '-waiting_for': '', '-earliest_start_at': '' },
      returnRecord: true,
    });
    if (start.outcome !== 'ok' || start.record === null) {
      if (ticket) await gate.release(ticket);
      log.info({ outcome: start.outcome }, 'job skipped: no longer runnable');
      return { status: 'skipped' };
    }

    const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    let headers: Headers | undefined;
    const started = performance.now();
    try {
      const outcome = await call(start.record, reference, {
        timeoutMs: options.providerTimeoutMs,
        idleTimeoutMs: options.streamIdleTimeoutMs,
        onResponseHeaders: (received) => (headers = received),
      });
      if (ticket) {
        const usedTokens = outcome.usage.input_tokens + outcome.usage.output_tokens;
        await gate.settle(ticket, { usedTokens, ...(headers ? { headers } : {}) }).catch(() => undefined);
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
        },
      });
      log.info({ model, ms: Math.round(performance.now() - started) }, 'job succeeded');
      return { status: 'succeeded' };
    } catch (thrown) {
      const error = asProviderError(thrown);
      if (ticket) await gate.settle(ticket, { error, ...(headers ? { headers } : {}) }).catch(() => undefined);
      const final = lastAttempt || !error.retryable;
      await store.transition({
        tenant,
        jobId,
        to: final ? 'failed' : 'queued',
        from: ['running'],
        fields: final ? { error: JSON.stringify(toJobError(error)), finished_at: Date.now() } : {},
      });
      log.warn({ model, kind: error.kind, status: error.status, final, err: error.message }, 'provider call failed');
      if (final) throw new UnrecoverableError(`${error.kind}: ${error.message}`);
      throw error;
    }
  };
}
