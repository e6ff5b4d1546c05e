import Anthropic from '@anthropic-ai/sdk';
import type { Provider } from '../provider.js';
import { AnthropicChatModel } from './anthropic-chat-model.js';

/** The API root the SDK uses by default. */
export const ANTHROPIC_DEFAULT_BASE_URL = 'https://api.anthropic.com';
/** `max_tokens` sent when a request sets no cap (Anthropic requires one). */
export const ANTHROPIC_DEFAULT_MAX_TOKENS = 4096;

export interface AnthropicProviderOptions {
  /** Provider name in model references. Default: `anthropic`. */
  name?: string;
  /**
   * API key (SDK 1.x sends it as `Authorization: Bearer`). Undefined: every call fails with an
   * `authentication` ProviderError; the SDK's own lookup of environment variables and credential
   * profiles is never used, so core stays free of ambient configuration.
   */
  apiKey?: string | undefined;
  /** API root without `/v1`. Default: `https://api.anthropic.com`. */
  baseURL?: string | undefined;
  /** Extra headers on every request. Default: none. */
  headers?: Record<string, string> | undefined;
  /** `max_tokens` for requests that set neither max_tokens nor max_completion_tokens. Default: 4096. */
  defaultMaxTokens?: number;
}

/** Anthropic through the official SDK, with its retries off. Anthropic has no embeddings. */
export function createAnthropicProvider(options: AnthropicProviderOptions = {}): Provider {
  const name = options.name ?? 'anthropic';
  const defaultMaxTokens = options.defaultMaxTokens ?? ANTHROPIC_DEFAULT_MAX_TOKENS;
  if (!Number.isInteger(defaultMaxTokens) || defaultMaxTokens < 1) {
    throw new RangeError(`defaultMaxTokens must be a positive integer, got ${defaultMaxTokens}`);
  }
  const client =
    options.apiKey === undefined || options.apiKey === ''
      ? undefined
      : new Anthropic({
          apiKey: options.apiKey,
          // Explicit, so the SDK never falls back to ANTHROPIC_BASE_URL on its own.
          baseURL: options.baseURL ?? ANTHROPIC_DEFAULT_BASE_URL,
          defaultHeaders: options.headers,
          // Retries belong to the job system (attempts, backoff, limiter), never to the SDK.
          maxRetries: 0,
        });
  return {
    name,
    chatModel: (modelId) => new AnthropicChatModel({ provider: name, modelId, client, defaultMaxTokens }),
  };
}
