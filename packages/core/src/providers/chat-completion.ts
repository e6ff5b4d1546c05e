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
