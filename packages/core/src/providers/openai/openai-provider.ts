import OpenAI from 'openai';
import type { Provider } from '../provider.js';
import { OpenAIChatModel } from './openai-chat-model.js';
import { OpenAIEmbeddingModel } from './openai-embedding-model.js';

export interface OpenAIProviderOptions {
  /** Provider name in model references. Default: `openai`. */
  name?: string;
  apiKey?: string | undefined;
  /** API root including `/v1`. Default: the SDK's (`https://api.openai.com/v1`). */
  baseURL?: string | undefined;
  headers?: Record<string, string> | undefined;
  embeddings?: boolean;
}

/** OpenAI, or any OpenAI-compatible server, through the official SDK with its retries off. */
export function createOpenAIProvider(options: OpenAIProviderOptions): Provider {
  const name = options.name ?? 'openai';
  const client = new OpenAI({
    // Local servers (vLLM, Ollama) often need no key; the SDK insists on one.
    apiKey: options.apiKey ?? 'none',
    baseURL: options.baseURL,
    defaultHeaders: options.headers,
    // Retries belong to the job system (attempts, backoff, limiter), never to the SDK.
    maxRetries: 0,
  });
  return {
    name,
    chatModel: (modelId) => new OpenAIChatModel({ provider: name, modelId, client }),
    ...(options.embeddings === false
      ? {}
      : { embeddingModel: (modelId: string) => new OpenAIEmbeddingModel({ provider: name, modelId, client }) }),
  };
}
