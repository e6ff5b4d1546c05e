import { GoogleGenAI } from '@google/genai';
import { ProviderError } from '../provider-error.js';

/** The Gemini API's root; the SDK appends `/v1beta/models/{model}:{method}`. */
export const GEMINI_API_ROOT = 'https://generativelanguage.googleapis.com';

export interface GoogleClientOptions {
  apiKey: string;
  /** Server root. Default: `GEMINI_API_ROOT`. */
  baseURL?: string | undefined;
  headers?: Record<string, string> | undefined;
}

/**
 * A @google/genai client bound to the Gemini API with its retries off. Every setting the SDK
 * would otherwise read from the environment (API key, Vertex mode, base URL) is given here, so
 * the process environment cannot change where or how calls go.
 */
export function createGoogleClient(options: GoogleClientOptions): GoogleGenAI {
  return new GoogleGenAI({
    apiKey: options.apiKey,
    vertexai: false,
    httpOptions: {
      // A root ending in the API version (as OpenAI's ends in /v1) would be doubled by the SDK.
      baseUrl: (options.baseURL ?? GEMINI_API_ROOT).replace(/\/v1beta\/?$/, ''),
      ...(options.headers ? { headers: options.headers } : {}),
      // Retries belong to the job system (attempts, backoff, limiter), never to the SDK; 2.x
      // makes one attempt when this is absent, and `attempts: 1` keeps it so if that default moves.
      retryOptions: { attempts: 1 },
    },
  });
}

/** The client, or the error a call without a configured key fails with (before any request). */
export function requireClient(provider: string, client: GoogleGenAI | undefined): GoogleGenAI {
  if (client !== undefined) return client;
  throw new ProviderError({
    provider,
    kind: 'authentication',
    message: `no API key is configured for provider "${provider}"`,
  });
}
