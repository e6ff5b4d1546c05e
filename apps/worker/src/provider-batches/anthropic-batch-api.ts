import { APIError, type Anthropic } from '@anthropic-ai/sdk';
import {
  AnthropicStreamAccumulator,
  chatJobUsage,
  JSON_OBJECT_TOOL_NAME,
  mapAnthropicError,
  ProviderError,
  toAnthropicRequest,
  type ChatCompletionResult,
  type ChatRequest,
} from '@llmq/core';
import {
  type BatchLine,
  type BatchLineOutcome,
  type BatchState,
  type ProviderBatchApi,
  withMappedFailure,
} from './provider-batch-api.js';

/** A line's body: the Messages request, and whether its answer is the forced json_object tool's input. */
export interface AnthropicBatchLineBody {
  params: Anthropic.MessageCreateParamsNonStreaming;
  jsonObject: boolean;
}

/**
 * Ends the `custom_id` of a json_object line. A result does not echo its request, so this is how
 * the answer is read the way the synchronous call reads it; job ids never contain `-`.
 */
const JSON_OBJECT_SUFFIX = '-json';

/** Anthropic's documented HTTP status of each error `type`: a result's error is built as the synchronous call's. */
const STATUS_BY_ERROR_TYPE: Readonly<Record<string, number>> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

/**
 * Anthropic's Message Batches through @anthropic-ai/sdk. A batch carries no metadata and its
 * requests cannot be listed before it ends, so it cannot be found by its intent: a worker that
 * dies between creating a batch and recording it costs one duplicate batch here (see the README).
 */
export class AnthropicBatchApi implements ProviderBatchApi {
  readonly provider = 'anthropic';
  readonly maxRequests = 100_000;
  /** The create request's limit. */
  readonly maxBytes = 256 * 1024 * 1024;

  constructor(
    private readonly client: Anthropic,
    private readonly options: {
      /** `max_tokens` for requests that set no cap, as the synchronous adapter sends it. */
      defaultMaxTokens: number;
    },
  ) {}

  chatLine(request: ChatRequest, modelId: string): AnthropicBatchLineBody {
    const translation = toAnthropicRequest(request, { modelId, defaultMaxTokens: this.options.defaultMaxTokens });
    if (translation.problems.length > 0) {
      // The catalog refuses these at submit time, as it does for the synchronous adapter.
      const fields = translation.problems.map((problem) => `${problem.field} ${problem.message}`).join('; ');
      throw new ProviderError({ provider: this.provider, kind: 'invalid_request', message: fields });
    }
    // A batch request is answered whole: the synchronous call's stream flag has no place here.
    const { stream: _stream, ...params } = translation.params;
    return { params, jsonObject: translation.jsonObjectTool !== undefined };
  }

  create(options: { modelId: string; lines: BatchLine[]; intent: string }): Promise<string> {
    return this.mapped(async () => {
      const requests = options.lines.map((line) => {
        // Made by chatLine above.
        const body = line.body as AnthropicBatchLineBody;
        const customId = body.jsonObject ? `${line.customId}${JSON_OBJECT_SUFFIX}` : line.customId;
        return { custom_id: customId, params: body.params };
      });
      const batch = await this.client.messages.batches.create({ requests });
      return batch.id;
    });
  }

  findByIntent(): Promise<string | null> {
    return Promise.resolve(null);
  }

  state(batchId: string): Promise<BatchState> {
    return this.mapped(async () => {
      const batch = await this.client.messages.batches.retrieve(batchId);
      if (batch.processing_status !== 'ended') return { ended: false };
      if (batch.cancel_initiated_at !== null) return { ended: true, status: 'cancelled' };
      return { ended: true, status: batch.request_counts.expired > 0 ? 'expired' : 'completed' };
    });
  }

  async cancel(batchId: string): Promise<void> {
    await this.mapped(() => this.client.messages.batches.cancel(batchId));
  }

  /** Every SDK failure as a ProviderError, as the chat adapter throws them. */
  private mapped<T>(work: () => Promise<T>): Promise<T> {
    return withMappedFailure(work, (error) => mapAnthropicError(this.provider, error));
  }

  async *results(batchId: string, model: string): AsyncIterable<BatchLineOutcome> {
    const lines = await this.mapped(() => this.client.messages.batches.results(batchId));
    for await (const line of lines) {
      const jsonObject = line.custom_id.endsWith(JSON_OBJECT_SUFFIX);
      const customId = jsonObject ? line.custom_id.slice(0, -JSON_OBJECT_SUFFIX.length) : line.custom_id;
      const { result } = line;
      // Canceled and expired requests were never answered: the caller runs them another way.
      if (result.type === 'canceled' || result.type === 'expired') continue;
      if (result.type === 'errored') {
        yield { customId, kind: 'error', error: mapAnthropicError(this.provider, errorOf(result.error)) };
        continue;
      }
      try {
        const answer = answerOf(result.message, { model, jsonObject });
        const usage = chatJobUsage(answer.usage);
        yield { customId, kind: 'answer', result: answer, usage };
      } catch (error) {
        yield { customId, kind: 'error', error: mapAnthropicError(this.provider, error) };
      }
    }
  }
}

/** The error the synchronous call would have thrown for this error body. */
function errorOf(body: Anthropic.ErrorResponse): APIError {
  const status = STATUS_BY_ERROR_TYPE[body.error.type];
  return status === undefined
    ? new APIError(undefined, body, undefined, undefined)
    : APIError.generate(status, body, undefined, new Headers());
}

/** A result's Message, read as the stream that would have carried it whole (the same checks and mapping). */
function answerOf(message: Anthropic.Message, options: { model: string; jsonObject: boolean }): ChatCompletionResult {
  const accumulator = new AnthropicStreamAccumulator({
    provider: 'anthropic',
    model: options.model,
    jsonObjectTool: options.jsonObject ? JSON_OBJECT_TOOL_NAME : undefined,
  });
  accumulator.add({ type: 'message_start', message: { ...message, content: [], stop_reason: null } });
  for (const [index, block] of message.content.entries()) {
    accumulator.add({ type: 'content_block_start', index, content_block: block });
  }
  accumulator.add({
    type: 'message_delta',
    delta: { stop_reason: message.stop_reason, stop_details: message.stop_details },
    usage: message.usage,
  });
  accumulator.add({ type: 'message_stop' });
  return accumulator.result();
}
