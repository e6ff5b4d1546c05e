import type { Provider } from '../provider.js';
import { createGoogleClient } from './google-client.js';
import { GoogleChatModel } from './google-chat-model.js';
import { GoogleEmbeddingModel } from './google-embedding-model.js';

export interface GoogleProviderOptions {
  /** Provider name in model references. Default: `google`. */
  name?: string;
  /** Gemini API key. Without one every call fails with `authentication` before any request. */
  apiKey?: string | undefined;
  /**
   * Server root, e.g. `http://127.0.0.1:4010`; the SDK appends `/v1beta/models/...` (a trailing
   * `/v1beta` is tolerated). Default: `https://generativelanguage.googleapis.com`.
   */
  baseURL?: string | undefined;
  /** Extra headers on every request (a proxy's, say). Default: none. */
  headers?: Record<string, string> | undefined;
}

/** Google Gemini (the Gemini API, not Vertex AI) through @google/genai, with its retries off. */
export function createGoogleProvider(options: GoogleProviderOptions = {}): Provider {
  const name = options.name ?? 'google';
  const client = options.apiKey
    ? createGoogleClient({ apiKey: options.apiKey, baseURL: options.baseURL, headers: options.headers })
    : undefined;
  return {
    name,
    chatModel: (modelId) => new GoogleChatModel({ provider: name, modelId, client }),
    embeddingModel: (modelId) => new GoogleEmbeddingModel({ provider: name, modelId, client }),
  };
}
