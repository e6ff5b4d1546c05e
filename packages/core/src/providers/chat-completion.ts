/** Result shapes every adapter returns: OpenAI's, whichever provider answered. */

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';

export interface ToolCallResult {
  id: string;
  type: 'function';
  /** `arguments` is a JSON string, as OpenAI sends it. */
  function: { name: string; arguments: string };
}

export interface TokenUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  /**
   * `cached_tokens`: prompt tokens the provider read from its prompt cache, part of `prompt_tokens`.
   * Every adapter sets it, so that every provider's answer has one shape; results stored before it
   * existed have none.
   */
  prompt_tokens_details?: { cached_tokens: number };
}

/**
 * `prompt_tokens_details` of a provider's cached count. A count it left out is 0: Gemini omits
 * zero counts, and a server that reports no cache is charged as if nothing was cached.
 */
export function promptTokensDetails(cachedTokens: number | null | undefined): { cached_tokens: number } {
  return { cached_tokens: cachedTokens ?? 0 };
}

/** OpenAI ChatCompletion, plus the provider that produced it. */
export interface ChatCompletionResult {
  id: string;
  object: 'chat.completion';
  /** Unix seconds. */
  created: number;
  /** `<provider>/<model>` as requested. */
  model: string;
  provider: string;
  choices: Array<{
    index: number;
    message: { role: 'assistant'; content: string | null; tool_calls?: ToolCallResult[]; refusal?: string | null };
    finish_reason: FinishReason;
  }>;
  usage: TokenUsage;
  system_fingerprint?: string | null;
}

/** OpenAI CreateEmbeddingResponse, plus the provider that produced it. */
export interface EmbeddingResult {
  object: 'list';
  model: string;
  provider: string;
  data: Array<{ object: 'embedding'; index: number; embedding: number[] }>;
  usage: { prompt_tokens: number; total_tokens: number };
}
