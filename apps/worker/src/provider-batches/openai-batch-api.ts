import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { APIError, toFile, type OpenAI } from 'openai';
import { setImmediate } from 'node:timers/promises';
import {
  chatJobUsage,
  embeddingInputs,
  mapOpenAIError,
  openAIEmbeddingResponseSchema,
  OpenAIStreamAccumulator,
  ProviderError,
  type ChatCompletionResult,
  type ChatRequest,
  type EmbeddingRequest,
} from '@llmq/core';
import {
  type BatchEndpoint,
  type BatchLine,
  type BatchLineOutcome,
  type BatchState,
  type ProviderBatchApi,
  withMappedFailure,
} from './provider-batch-api.js';

/** The metadata key that names a batch's intent (see ProviderBatchApi.create). */
const INTENT_KEY = 'llmq_intent';
/** Pages of `GET /v1/batches` searched for an intent after a crash: the newest 1,000 batches. */
const SEARCH_PAGES = 10;
const ENDED = new Set(['completed', 'failed', 'expired', 'cancelled']);
/** Lines of the input file serialised between pauses for the event loop. */
const LINES_PER_PIECE = 500;

/** OpenAI's Batch API (files + batches) through the openai SDK. */
export class OpenAIBatchApi implements ProviderBatchApi {
  readonly provider = 'openai';
  readonly maxRequests = 50_000;
  /** The batch input file's limit. */
  readonly maxBytes = 200 * 1024 * 1024;

  constructor(private readonly client: OpenAI) {}

  /** One line carries as many inputs as one `/v1/embeddings` call takes. */
  readonly maxEmbeddingInputs = 2048;

  chatLine(request: ChatRequest, modelId: string): unknown {
    return { ...request, model: modelId };
  }

  /** As the embedding adapter calls it: float vectors, the request's dimensions and user. */
  embeddingLine(request: EmbeddingRequest, modelId: string): unknown {
    return {
      model: modelId,
      input: embeddingInputs(request),
      encoding_format: 'float',
      ...(request.dimensions === undefined ? {} : { dimensions: request.dimensions }),
      ...(request.user === undefined ? {} : { user: request.user }),
    };
  }

  create(options: { modelId: string; lines: BatchLine[]; intent: string; endpoint?: BatchEndpoint }): Promise<string> {
    return this.mapped(() => this.createBatch(options));
  }

  findByIntent(intent: string): Promise<string | null> {
    return this.mapped(() => this.searchIntent(intent));
  }

  state(batchId: string): Promise<BatchState> {
    return this.mapped(async () => {
      const batch = await this.client.batches.retrieve(batchId);
      return ENDED.has(batch.status) ? { ended: true, status: batch.status } : { ended: false };
    });
  }

  async cancel(batchId: string): Promise<void> {
    await this.mapped(() => this.client.batches.cancel(batchId));
  }

  /** Every SDK failure as a ProviderError, as the chat adapter throws them. */
  private mapped<T>(work: () => Promise<T>): Promise<T> {
    return withMappedFailure(work, (error) => mapOpenAIError(this.provider, error));
  }

  private async createBatch(options: {
    modelId: string;
    lines: BatchLine[];
    intent: string;
    endpoint?: BatchEndpoint;
  }): Promise<string> {
    const url = options.endpoint === 'embedding' ? '/v1/embeddings' : '/v1/chat/completions';
    // The file is built in pieces, with a pause for the event loop between them: a 100 MB batch
    // never holds the worker for one long stretch.
    const pieces: Buffer[] = [];
    for (let start = 0; start < options.lines.length; start += LINES_PER_PIECE) {
      if (start > 0) await setImmediate();
      const text = options.lines
        .slice(start, start + LINES_PER_PIECE)
        .map((line) => `${JSON.stringify({ custom_id: line.customId, method: 'POST', url, body: line.body })}\n`)
        .join('');
      pieces.push(Buffer.from(text));
    }
    const file = await this.client.files.create({
      file: await toFile(new Blob(pieces), `llmq-${options.intent}.jsonl`),
      purpose: 'batch',
    });
    const batch = await this.client.batches.create({
      input_file_id: file.id,
      endpoint: url,
      completion_window: '24h',
      metadata: { [INTENT_KEY]: options.intent },
    });
    return batch.id;
  }

  private async searchIntent(intent: string): Promise<string | null> {
    let page = await this.client.batches.list({ limit: 100 });
    for (let pages = 0; pages < SEARCH_PAGES; pages += 1) {
      const found = page.data.find((batch) => batch.metadata?.[INTENT_KEY] === intent);
      if (found) return found.id;
      if (!page.hasNextPage()) return null;
      page = await page.getNextPage();
    }
    return null;
  }

  async *results(batchId: string, model: string): AsyncIterable<BatchLineOutcome> {
    const batch = await this.client.batches.retrieve(batchId);
    for (const fileId of [batch.output_file_id, batch.error_file_id]) {
      if (!fileId) continue;
      const response = await this.client.files.content(fileId);
      if (response.body === null) continue;
      const lines = createInterface({ input: Readable.fromWeb(response.body as never), crlfDelay: Infinity });
      for await (const text of lines) {
        if (text.trim() === '') continue;
        const outcome = this.outcomeOf(text, model);
        if (outcome !== null) yield outcome;
      }
    }
  }

  /** An embeddings answer, checked as the embedding adapter checks its own. */
  private embeddingOutcome(customId: string, body: unknown, model: string): BatchLineOutcome {
    const parsed = openAIEmbeddingResponseSchema.safeParse(body);
    const data = parsed.success ? [...parsed.data.data].sort((left, right) => left.index - right.index) : [];
    if (!parsed.success || data.some((item, position) => item.index !== position)) {
      const message = 'malformed embedding response in a batch line';
      return {
        customId,
        kind: 'error',
        error: new ProviderError({ provider: this.provider, kind: 'provider_error', message }),
      };
    }
    const promptTokens = parsed.data.usage?.prompt_tokens ?? 0;
    return {
      customId,
      kind: 'answer',
      result: {
        object: 'list',
        model,
        provider: this.provider,
        data: data.map((item) => ({ object: 'embedding' as const, index: item.index, embedding: item.embedding })),
        usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
      },
      usage: { input_tokens: promptTokens, output_tokens: 0 },
    };
  }

  /** One output or error line; null when it names no request. */
  private outcomeOf(text: string, model: string): BatchLineOutcome | null {
    let line: {
      custom_id?: unknown;
      response?: { status_code?: number; body?: unknown } | null;
      error?: { code?: string; message?: string } | null;
    };
    try {
      line = JSON.parse(text) as typeof line;
    } catch {
      return null;
    }
    if (typeof line.custom_id !== 'string') return null;
    const customId = line.custom_id;
    const status = line.response?.status_code;
    if (status === 200 && isEmbeddingList(line.response?.body)) {
      return this.embeddingOutcome(customId, line.response?.body, model);
    }
    if (status === 200) {
      try {
        const result = answerOf(line.response?.body, model);
        return { customId, kind: 'answer', result, usage: chatJobUsage(result.usage) };
      } catch (error) {
        return { customId, kind: 'error', error: error as ProviderError };
      }
    }
    if (status === undefined) {
      const message = line.error?.message ?? 'the batch request failed';
      return {
        customId,
        kind: 'error',
        error: new ProviderError({ provider: this.provider, kind: 'provider_error', message }),
      };
    }
    // The line's error as the synchronous call would have thrown it, mapped the same way.
    const body = line.response?.body as { error?: Record<string, unknown> } | undefined;
    const error = APIError.generate(status, body, undefined, new Headers());
    return { customId, kind: 'error', error: mapOpenAIError(this.provider, error) };
  }
}

const isEmbeddingList = (body: unknown) => (body as { object?: unknown } | undefined)?.object === 'list';

/** A batch line's ChatCompletion, read as the stream of one chunk it would have been (the same checks and mapping). */
function answerOf(body: unknown, model: string): ChatCompletionResult {
  const completion = body as {
    id?: string;
    created?: number;
    choices?: Array<{ index?: number; message?: Record<string, unknown>; finish_reason?: string | null }>;
    usage?: unknown;
  };
  const accumulator = new OpenAIStreamAccumulator({ provider: 'openai', model });
  accumulator.add({
    id: completion.id,
    created: completion.created,
    choices: (completion.choices ?? []).map((choice) => ({
      index: choice.index ?? 0,
      delta: {
        ...choice.message,
        tool_calls: (choice.message?.tool_calls as Array<Record<string, unknown>> | undefined)?.map((call, index) => ({
          ...call,
          index,
        })),
      },
      finish_reason: choice.finish_reason ?? null,
    })),
    usage: completion.usage ?? null,
  });
  return accumulator.result();
}
