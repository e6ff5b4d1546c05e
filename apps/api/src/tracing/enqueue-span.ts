import { context, SpanKind, trace, type Span } from '@opentelemetry/api';
import {
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_MESSAGE_ID,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM,
} from '@opentelemetry/semantic-conventions/incubating';
import { errorTypeOf, LLM_QUEUE_NAME, llmqTracer, markSpanFailed, traceparentOf, type LlmJobData } from '@llmq/core';

/**
 * A PRODUCER span per job put on the LLM queue, named `send llm-jobs` as the messaging
 * conventions name it; its `traceparent` goes into the job's data, so the workers' spans of the
 * job join its trace. One job is a child of the request's span; each job of a batch starts a
 * trace of its own, linked to the request's span, so that every job has one trace.
 */
export function startEnqueueSpans(jobs: ReadonlyArray<{ jobId: string; data: LlmJobData }>): {
  end(error?: unknown): void;
} {
  const active = context.active();
  const requestSpan = trace.getSpan(active);
  const batch = jobs.length > 1;
  const spans: Span[] = jobs.map(({ jobId, data }) => {
    const span = llmqTracer().startSpan(
      `send ${LLM_QUEUE_NAME}`,
      {
        kind: SpanKind.PRODUCER,
        root: batch,
        ...(batch && requestSpan ? { links: [{ context: requestSpan.spanContext() }] } : {}),
        attributes: {
          [ATTR_MESSAGING_SYSTEM]: 'bullmq',
          [ATTR_MESSAGING_DESTINATION_NAME]: LLM_QUEUE_NAME,
          [ATTR_MESSAGING_OPERATION_TYPE]: 'send',
          [ATTR_MESSAGING_MESSAGE_ID]: jobId,
          'llmq.job.id': jobId,
          'llmq.job.type': data.type,
          'llmq.job.model': data.model,
          'llmq.tenant': data.tenant,
        },
      },
      active,
    );
    const traceparent = traceparentOf(trace.setSpan(active, span));
    if (traceparent !== undefined) data.traceparent = traceparent;
    return span;
  });
  return {
    end(error?: unknown) {
      for (const span of spans) {
        if (error !== undefined) markSpanFailed(span, errorTypeOf(error));
        span.end();
      }
    },
  };
}
