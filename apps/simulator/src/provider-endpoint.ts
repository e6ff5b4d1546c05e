import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { WireError } from './wire-error.js';

/**
 * The contract between the shared request pipeline (auth, faults, rate windows, latency, stats)
 * and one provider's wire format. OpenAI implements it in `openai-routes.ts`; an Anthropic
 * (`/v1/messages`) or Gemini (`/v1beta/models/{model}:generateContent`) module adds its own
 * endpoints with its own `WireFormat`, reusing `generateReply` and everything in the pipeline.
 */

/** A provider-neutral failure; each wire format renders it with its own status and body. */
export type SimulatedFailure =
  | { kind: 'missing_api_key' }
  | { kind: 'invalid_api_key'; key: string }
  | {
      kind: 'rate_limit';
      model: string;
      /** The organisation whose shared limit was hit; absent for model and "*" limits. */
      organization?: string;
      limitType: 'requests' | 'tokens';
      limit: number;
      used: number;
      requested: number;
      /** When the request would fit; absent when it never will (`tooLarge`) or is unknown. */
      retryAfterMs?: number | undefined;
      /** The request alone exceeds the limit. */
      tooLarge: boolean;
    }
  | { kind: 'insufficient_quota' }
  | { kind: 'server_error' }
  | { kind: 'overloaded' }
  | { kind: 'not_found'; method: string; path: string }
  | { kind: 'invalid_json' }
  | { kind: 'body_too_large'; limitBytes: number };

export interface WireFormat {
  /** Short name used in logs: "openai". */
  readonly name: string;
  /** The API key the request carries (header or query string, per provider), or undefined. */
  readApiKey(request: IncomingMessage): string | undefined;
  renderFailure(failure: SimulatedFailure): WireError;
}

/** Per-response settings the pipeline hands to `respond`. */
export interface RespondSettings {
  /** Pause between streamed chunks, ms; 0 writes the whole stream at once. */
  chunkDelayMs: number;
  /** Headers the pipeline adds to the answer (rate-limit state). */
  headers: Readonly<Record<string, string>>;
  /** Time the request arrived, epoch ms: for `created` fields and processing-time headers. */
  receivedAt: number;
  /**
   * Prompt tokens served from the key's prompt cache (see `prompt-cache.ts`); 0 when the prompt
   * cache is off. Each wire format reports them in its own usage field.
   */
  cachedPromptTokens: number;
}

/** A validated request with its reply computed, waiting for the pipeline to let it answer. */
export interface PreparedCall {
  /** Model named by the request: the key for faults, rate windows and stats. */
  model: string;
  /** Tokens charged against the rate window and reported in usage. */
  promptTokens: number;
  completionTokens: number;
  /**
   * The prompt as the prompt cache compares it: the messages (or contents) serialised in order.
   * Absent for calls that have no prompt cache (embeddings). A function, so nothing is serialised
   * while the prompt cache is off.
   */
  promptText?: () => string;
  /** Writes the success answer; called once, and only while the client is still connected. */
  respond(response: ServerResponse, settings: RespondSettings): void;
}

export interface ProviderEndpoint {
  readonly wire: WireFormat;
  /** Whether this endpoint serves the request line. */
  matches(method: string, pathname: string): boolean;
  /**
   * Validates the parsed JSON body and computes the reply; throws a `WireError` for bad input.
   * `headers` are the request's, for wire formats with required headers besides the key
   * (Anthropic's `anthropic-version`).
   */
  prepare(body: unknown, pathname: string, headers: IncomingHttpHeaders): PreparedCall;
}
