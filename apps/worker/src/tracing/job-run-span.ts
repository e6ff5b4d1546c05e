import { SpanKind, type Span } from '@opentelemetry/api';
import {
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_MESSAGE_ID,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM,
} from '@opentelemetry/semantic-conventions/incubating';
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import {
  contextFromTraceparent,
  errorTypeOf,
  inSpan,
  LLM_QUEUE_NAME,
  RetryLater,
  type JobEndNotice,
  type LlmJobData,
} from '@llmq/core';

/** How a run left the job, on its span: `llmq.job.outcome`. */
const OUTCOME = 'llmq.job.outcome';

/** A queue-control throw is how a run hands the job back, not a failure of the span. */
function runOutcome(error: unknown): string | null {
  if (error instanceof DelayedError) return 'parked';
  if (error instanceof RetryLater) return 'retry';
  if (error instanceof UnrecoverableError) return 'failed';
  return null;
}

/**
 * One run of an LLM job in a CONSUMER span (`process llm-jobs`) under the span that enqueued it
 * (the `traceparent` in its data), so every run, park and retry of a job shares one trace.
 */
export function traceJobRun<T extends { status: string }>(job: Job<LlmJobData>, work: () => Promise<T>): Promise<T> {
  let span: Span | undefined;
  return inSpan(
    `process ${LLM_QUEUE_NAME}`,
    {
      kind: SpanKind.CONSUMER,
      parent: contextFromTraceparent(job.data.traceparent),
      attributes: {
        [ATTR_MESSAGING_SYSTEM]: 'bullmq',
        [ATTR_MESSAGING_DESTINATION_NAME]: LLM_QUEUE_NAME,
        [ATTR_MESSAGING_OPERATION_TYPE]: 'process',
        [ATTR_MESSAGING_MESSAGE_ID]: job.data.jobId,
        'llmq.job.id': job.data.jobId,
        'llmq.job.type': job.data.type,
        'llmq.job.run': job.attemptsMade + 1,
      },
      failure: (error) => {
        const outcome = runOutcome(error);
        span?.setAttribute(OUTCOME, outcome ?? 'error');
        // A job failed for good is marked by its result write (`llmq.job.fail`), with its error type.
        return outcome === null ? errorTypeOf(error) : null;
      },
    },
    async (runSpan) => {
      span = runSpan;
      const result = await work();
      runSpan.setAttribute(OUTCOME, result.status);
      return result;
    },
  );
}

/**
 * What follows a job's end (cache, webhook queued, metrics) in a span under the end's result
 * write, whose `traceparent` the outbox notice carries; the webhook delivery queued inside it
 * joins the job's trace.
 */
export function traceJobEnd(notice: JobEndNotice, work: () => Promise<void>): Promise<void> {
  if (notice.traceparent === undefined) return work();
  return inSpan(
    'llmq.job.ended',
    {
      kind: SpanKind.INTERNAL,
      parent: contextFromTraceparent(notice.traceparent),
      attributes: { 'llmq.job.id': notice.jobId, 'llmq.job.status': notice.status },
    },
    work,
  );
}
