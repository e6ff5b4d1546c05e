import type { EmbedContentResponse, GoogleGenAI } from '@google/genai';
import { CallGuard } from '../call-guard.js';
import type { CallOptions, EmbeddingModel } from '../provider.js';
import { ProviderError } from '../provider-error.js';
import { requireClient } from './google-client.js';
import { mapGoogleError } from './map-google-error.js';

/** Requests one `batchEmbedContents` call takes on the Gemini API. */
export const GEMINI_MAX_EMBEDDINGS_PER_CALL = 100;

/** Characters per token in Google's own rule of thumb for Gemini models. */
const CHARACTERS_PER_TOKEN = 4;

/**
 * Tokens of `inputs` by Google's rule of thumb (about 4 characters a token), at least 1 each:
 * the Gemini API reports no usage for embeddings, and the limiter needs a number to reconcile.
 */
export function estimateEmbeddingTokens(inputs: readonly string[]): number {
  return inputs.reduce((sum, input) => sum + Math.max(1, Math.ceil(input.length / CHARACTERS_PER_TOKEN)), 0);
}

export interface GoogleEmbeddingModelOptions {
  provider: string;
  modelId: string;
  /** Undefined when no API key is configured: every call then fails with `authentication`. */
  client: GoogleGenAI | undefined;
}

/**
 * Embeddings through @google/genai's `models.embedContent`, which calls `:batchEmbedContents`
 * with one request per input for Gemini API keys. `promptTokens` is an estimate (see
 * `estimateEmbeddingTokens`).
 */
export class GoogleEmbeddingModel implements EmbeddingModel {
  readonly provider: string;
  readonly modelId: string;
  readonly maxEmbeddingsPerCall = GEMINI_MAX_EMBEDDINGS_PER_CALL;
  readonly #client: GoogleGenAI | undefined;

  constructor(options: GoogleEmbeddingModelOptions) {
    this.provider = options.provider;
    this.modelId = options.modelId;
    this.#client = options.client;
  }

  async doEmbed(
    inputs: readonly string[],
    settings: { dimensions?: number | undefined; user?: string | undefined },
    options: CallOptions,
  ): Promise<{ embeddings: number[][]; promptTokens: number }> {
    if (settings.user !== undefined) throw this.#invalid('user is not supported: Gemini takes no end-user identifier');
    if (inputs.length > this.maxEmbeddingsPerCall) {
      throw this.#invalid(`${inputs.length} inputs exceed the ${this.maxEmbeddingsPerCall} of one call`);
    }
    const client = requireClient(this.provider, this.#client);
    const guard = new CallGuard({ provider: this.provider, signal: options.signal, timeoutMs: options.timeoutMs });
    let response: EmbedContentResponse;
    try {
      response = await client.models.embedContent({
        model: this.modelId,
        // One Content per input: given plain strings, the SDK joins them into ONE content (one
        // vector) for gemini-embedding-2 models.
        contents: inputs.map((text) => ({ role: 'user', parts: [{ text }] })),
        config: {
          abortSignal: guard.signal,
          ...(settings.dimensions !== undefined ? { outputDimensionality: settings.dimensions } : {}),
        },
      });
    } catch (error) {
      throw guard.failure(error, (cause) => mapGoogleError(this.provider, cause));
    } finally {
      guard.dispose();
    }
    const embeddings = (response.embeddings ?? []).flatMap((embedding) => (embedding.values ? [embedding.values] : []));
    if (embeddings.length !== inputs.length) {
      throw new ProviderError({
        provider: this.provider,
        kind: 'provider_error',
        message: `${embeddings.length} embeddings came back for ${inputs.length} inputs`,
      });
    }
    return { embeddings, promptTokens: estimateEmbeddingTokens(inputs) };
  }

  #invalid(message: string): ProviderError {
    return new ProviderError({ provider: this.provider, kind: 'invalid_request', message });
  }
}
