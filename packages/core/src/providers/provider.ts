import type { ChatRequest } from '../jobs/chat-request-schema.js';
import type { ChatCompletionResult, EmbeddingResult } from './chat-completion.js';

/** Per-call options every model method takes. */
export interface CallOptions {
  /** Aborts the call (cancellation, shutdown); the adapter rejects with a `canceled` ProviderError. */
  signal?: AbortSignal | undefined;
  /** Per-attempt time limit in milliseconds; the adapter rejects with a `timeout` ProviderError. */
  timeoutMs: number;
  /**
   * Longest silence between two streamed chunks, ms; the adapter rejects with a `timeout`
   * ProviderError. Undefined: no idle limit.
   */
  idleTimeoutMs?: number | undefined;
  /** Receives the generated text as it streams, piece by piece. */
  onTextDelta?: ((delta: string) => void) | undefined;
  /** Receives the provider's response headers (rate-limit counters) once they arrive. */
  onResponseHeaders?: ((headers: Headers) => void) | undefined;
  /**
   * Asks for the provider's flex tier (OpenAI's and Gemini's `service_tier: "flex"`: half price,
   * slower, best effort). Adapters of other providers ignore it.
   */
  serviceTier?: 'flex' | undefined;
}

/**
 * A chat model of one provider. Adapters translate the OpenAI-shaped request into the provider's
 * wire format and the answer back, and throw only `ProviderError`.
 */
export interface ChatModel {
  /** Provider name as used in model references (`openai`, a configured name, ...). */
  readonly provider: string;
  /** The provider's model id (`gpt-4o-mini`). */
  readonly modelId: string;
  /**
   * One provider call. Adapters stream from the provider even though the caller wants the whole
   * answer, so long generations are not cut by provider or proxy limits on silent connections;
   * text reaches `options.onTextDelta` as it arrives. `request.model` is ignored for `modelId`.
   */
  doGenerate(request: ChatRequest, options: CallOptions): Promise<ChatCompletionResult>;
}

export interface EmbeddingModel {
  readonly provider: string;
  readonly modelId: string;
  /** Most inputs one provider call accepts; callers split larger batches. */
  readonly maxEmbeddingsPerCall: number;
  /** One provider call for at most `maxEmbeddingsPerCall` inputs; results keep input order. */
  doEmbed(
    inputs: readonly string[],
    settings: { dimensions?: number | undefined; user?: string | undefined },
    options: CallOptions,
  ): Promise<{ embeddings: number[][]; promptTokens: number }>;
}

/** Builds model instances for one provider. */
export interface Provider {
  readonly name: string;
  chatModel(modelId: string): ChatModel;
  /** Undefined when the provider has no embeddings. */
  embeddingModel?(modelId: string): EmbeddingModel;
}

export type { ChatCompletionResult, EmbeddingResult };
