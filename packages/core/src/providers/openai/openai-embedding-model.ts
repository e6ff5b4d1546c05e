import type OpenAI from 'openai';
import { CallGuard } from '../call-guard.js';
import type { CallOptions, EmbeddingModel } from '../provider.js';
import { ProviderError } from '../provider-error.js';
import { mapOpenAIError } from './map-openai-error.js';
import { openAIEmbeddingResponseSchema } from './openai-response-schema.js';

export interface OpenAIEmbeddingModelOptions {
  provider: string;
  modelId: string;
  client: OpenAI;
  /** Inputs per call. Default: 2048, OpenAI's limit. */
  maxEmbeddingsPerCall?: number;
}

export class OpenAIEmbeddingModel implements EmbeddingModel {
  readonly provider: string;
  readonly modelId: string;
  readonly maxEmbeddingsPerCall: number;
  readonly #client: OpenAI;

  constructor(options: OpenAIEmbeddingModelOptions) {
    this.provider = options.provider;
    this.modelId = options.modelId;
    this.maxEmbeddingsPerCall = options.maxEmbeddingsPerCall ?? 2048;
    this.#client = options.client;
  }

  async doEmbed(
    inputs: readonly string[],
    settings: { dimensions?: number | undefined; user?: string | undefined },
    options: CallOptions,
  ): Promise<{ embeddings: number[][]; promptTokens: number }> {
    let raw: unknown;
    const guard = new CallGuard({ provider: this.provider, signal: options.signal, timeoutMs: options.timeoutMs });
    try {
      const { data, response } = await this.#client.embeddings
        .create(
          {
            model: this.modelId,
            input: [...inputs],
            encoding_format: 'float',
            ...(settings.dimensions !== undefined ? { dimensions: settings.dimensions } : {}),
            ...(settings.user !== undefined ? { user: settings.user } : {}),
          },
          { signal: guard.signal },
        )
        .withResponse();
      options.onResponseHeaders?.(response.headers);
      raw = data;
    } catch (error) {
      throw guard.failure(error, (cause) => mapOpenAIError(this.provider, cause));
    } finally {
      guard.dispose();
    }
    const parsed = openAIEmbeddingResponseSchema.safeParse(raw);
    if (!parsed.success || parsed.data.data.length !== inputs.length) {
      throw new ProviderError({
        provider: this.provider,
        kind: 'provider_error',
        message: `malformed embedding response for ${inputs.length} inputs`,
      });
    }
    const embeddings: number[][] = new Array<number[]>(inputs.length);
    for (const item of parsed.data.data) embeddings[item.index] = item.embedding;
    if (embeddings.some((embedding) => embedding === undefined)) {
      throw new ProviderError({
        provider: this.provider,
        kind: 'provider_error',
        message: 'embedding indexes do not match the inputs',
      });
    }
    return { embeddings, promptTokens: parsed.data.usage?.prompt_tokens ?? 0 };
  }
}
