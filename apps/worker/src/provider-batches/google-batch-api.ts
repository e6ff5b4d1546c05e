import { ApiError, JobState, type BatchJob, type GoogleGenAI, type InlinedResponse } from '@google/genai';
import {
  chatJobUsage,
  GoogleStreamAccumulator,
  mapGoogleError,
  ProviderError,
  toGoogleRequest,
  type ChatCompletionResult,
  type ChatRequest,
  type GoogleRequest,
} from '@llmq/core';
import {
  type BatchLine,
  type BatchLineOutcome,
  type BatchState,
  type ProviderBatchApi,
  withMappedFailure,
} from './provider-batch-api.js';

/** A batch's `displayName` is this and its intent (see ProviderBatchApi.create). */
const INTENT_PREFIX = 'llmq-intent-';
/** Batches searched for an intent after a crash: the newest 1,000. */
const SEARCH_BATCHES = 1_000;
const SEARCH_PAGE_SIZE = 100;
/** Inline requests travel in the create call, which Gemini caps at 20 MB; this leaves room for its framing. */
const MAX_INLINE_BYTES = 19 * 1024 * 1024;

const STATUS_BY_STATE: Partial<Record<JobState, string>> = {
  [JobState.JOB_STATE_SUCCEEDED]: 'completed',
  [JobState.JOB_STATE_FAILED]: 'failed',
  [JobState.JOB_STATE_CANCELLED]: 'cancelled',
  [JobState.JOB_STATE_EXPIRED]: 'expired',
};

/**
 * A line's error is a `google.rpc.Status`, which names its gRPC code; these are the HTTP status and
 * status name the synchronous call would have answered with (google.rpc.Code's own mapping).
 */
const HTTP_BY_GRPC_CODE: Readonly<Record<number, { status: number; name: string }>> = {
  2: { status: 500, name: 'UNKNOWN' },
  3: { status: 400, name: 'INVALID_ARGUMENT' },
  4: { status: 504, name: 'DEADLINE_EXCEEDED' },
  5: { status: 404, name: 'NOT_FOUND' },
  6: { status: 409, name: 'ALREADY_EXISTS' },
  7: { status: 403, name: 'PERMISSION_DENIED' },
  8: { status: 429, name: 'RESOURCE_EXHAUSTED' },
  9: { status: 400, name: 'FAILED_PRECONDITION' },
  10: { status: 409, name: 'ABORTED' },
  11: { status: 400, name: 'OUT_OF_RANGE' },
  12: { status: 501, name: 'UNIMPLEMENTED' },
  13: { status: 500, name: 'INTERNAL' },
  14: { status: 503, name: 'UNAVAILABLE' },
  15: { status: 500, name: 'DATA_LOSS' },
  16: { status: 401, name: 'UNAUTHENTICATED' },
};
/** `CANCELLED`: the batch ended before the request ran. */
const GRPC_CANCELLED = 1;

/**
 * Gemini Batch Mode with inline requests, through @google/genai's `batches`. Each request carries
 * its job id as `metadata.key`, and the batch its intent in its `displayName`. Batches hold at
 * most 1,000 requests: inline requests share one 20 MB call, and the answers come back whole in
 * one `batches.get`, so a modest batch keeps both within bounds.
 */
export class GoogleBatchApi implements ProviderBatchApi {
  readonly provider = 'google';
  readonly maxRequests = 1_000;
  readonly maxBytes = MAX_INLINE_BYTES;

  constructor(private readonly client: GoogleGenAI) {}

  chatLine(request: ChatRequest): GoogleRequest {
    const translation = toGoogleRequest(request);
    if (translation.problems.length > 0) {
      // The catalog refuses these at submit time, as it does for the synchronous adapter.
      const fields = translation.problems.map((problem) => `${problem.field} ${problem.message}`).join('; ');
      throw new ProviderError({ provider: this.provider, kind: 'invalid_request', message: fields });
    }
    return translation.request;
  }

  create(options: { modelId: string; lines: BatchLine[]; intent: string }): Promise<string> {
    return this.mapped(async () => {
      const batch = await this.client.batches.create({
        model: options.modelId,
        // Bodies made by chatLine above; the SDK turns them into the wire request as generateContent does.
        src: options.lines.map((line) => ({ ...(line.body as GoogleRequest), metadata: { key: line.customId } })),
        config: { displayName: `${INTENT_PREFIX}${options.intent}` },
      });
      return nameOf(batch);
    });
  }

  findByIntent(intent: string): Promise<string | null> {
    return this.mapped(async () => {
      const pager = await this.client.batches.list({ config: { pageSize: SEARCH_PAGE_SIZE } });
      let searched = 0;
      for await (const batch of pager) {
        if (batch.displayName === `${INTENT_PREFIX}${intent}`) return nameOf(batch);
        searched += 1;
        if (searched >= SEARCH_BATCHES) break;
      }
      return null;
    });
  }

  state(batchId: string): Promise<BatchState> {
    return this.mapped(async () => {
      const batch = await this.client.batches.get({ name: batchId });
      const status = batch.state === undefined ? undefined : STATUS_BY_STATE[batch.state];
      return status === undefined ? { ended: false } : { ended: true, status };
    });
  }

  async cancel(batchId: string): Promise<void> {
    await this.mapped(() => this.client.batches.cancel({ name: batchId }));
  }

  /** Every SDK failure as a ProviderError, as the chat adapter throws them. */
  private mapped<T>(work: () => Promise<T>): Promise<T> {
    return withMappedFailure(work, (error) => mapGoogleError(this.provider, error));
  }

  async *results(batchId: string, model: string): AsyncIterable<BatchLineOutcome> {
    const batch = await this.mapped(() => this.client.batches.get({ name: batchId }));
    for (const inline of batch.dest?.inlinedResponses ?? []) {
      const outcome = this.outcomeOf(inline, model);
      if (outcome !== null) yield outcome;
    }
  }

  /** One inline response; null when it names no job or the batch never ran its request. */
  private outcomeOf(inline: InlinedResponse, model: string): BatchLineOutcome | null {
    const customId = inline.metadata?.key;
    if (customId === undefined) return null;
    if (inline.response !== undefined) {
      try {
        const result = answerOf(inline.response, model);
        const usage = chatJobUsage(result.usage);
        return { customId, kind: 'answer', result, usage };
      } catch (error) {
        return { customId, kind: 'error', error: mapGoogleError(this.provider, error) };
      }
    }
    const status = inline.error;
    if (status === undefined || status.code === GRPC_CANCELLED) return null;
    const http = HTTP_BY_GRPC_CODE[status.code ?? 2] ?? { status: 500, name: 'UNKNOWN' };
    // The line's error as the synchronous call would have thrown it, mapped the same way.
    const body = { error: { code: http.status, message: status.message, status: http.name, details: status.details } };
    const error = new ApiError({ message: JSON.stringify(body), status: http.status });
    return { customId, kind: 'error', error: mapGoogleError(this.provider, error) };
  }
}

function nameOf(batch: BatchJob): string {
  if (batch.name === undefined) throw new Error('Gemini answered a batch without a name');
  return batch.name;
}

/** A line's GenerateContentResponse, read as the stream of one chunk it would have been (the same checks and mapping). */
function answerOf(response: unknown, model: string): ChatCompletionResult {
  const accumulator = new GoogleStreamAccumulator({ provider: 'google', model });
  accumulator.add(response);
  return accumulator.result();
}
