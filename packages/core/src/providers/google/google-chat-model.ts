import { ServiceTier, type GoogleGenAI } from '@google/genai';
import type { ChatRequest } from '../../jobs/chat-request-schema.js';
import { CallGuard } from '../call-guard.js';
import type { ChatCompletionResult } from '../chat-completion.js';
import type { CallOptions, ChatModel } from '../provider.js';
import { ProviderError } from '../provider-error.js';
import { requireClient } from './google-client.js';
import { GoogleStreamAccumulator } from './google-stream-accumulator.js';
import { mapGoogleError } from './map-google-error.js';
import { toGoogleRequest } from './to-google-request.js';

export interface GoogleChatModelOptions {
  provider: string;
  modelId: string;
  /** Undefined when no API key is configured: every call then fails with `authentication`. */
  client: GoogleGenAI | undefined;
}

/** Chat with Gemini through @google/genai's `models.generateContentStream`. */
export class GoogleChatModel implements ChatModel {
  readonly provider: string;
  readonly modelId: string;
  readonly #client: GoogleGenAI | undefined;

  constructor(options: GoogleChatModelOptions) {
    this.provider = options.provider;
    this.modelId = options.modelId;
    this.#client = options.client;
  }

  async doGenerate(request: ChatRequest, options: CallOptions): Promise<ChatCompletionResult> {
    const translation = toGoogleRequest(request);
    if (translation.problems.length > 0) {
      // The catalog refuses these at submit time; this guards jobs that bypassed it.
      const list = translation.problems.map((problem) => `${problem.field} ${problem.message}`).join('; ');
      throw new ProviderError({ provider: this.provider, kind: 'invalid_request', message: list });
    }
    const client = requireClient(this.provider, this.#client);
    const guard = new CallGuard({ provider: this.provider, ...options });
    const accumulator = new GoogleStreamAccumulator({
      provider: this.provider,
      model: `${this.provider}/${this.modelId}`,
    });
    try {
      const stream = await client.models.generateContentStream({
        model: this.modelId,
        contents: translation.request.contents,
        config: {
          ...translation.request.config,
          abortSignal: guard.signal,
          // Continuation would send further requests on its own: one call is one request here.
          automaticContinuation: false,
          ...(options.serviceTier === undefined ? {} : { serviceTier: ServiceTier.FLEX }),
        },
      });
      for await (const chunk of stream) {
        guard.touch();
        const delta = accumulator.add(chunk);
        if (delta !== '') options.onTextDelta?.(delta);
      }
      return accumulator.result();
    } catch (error) {
      throw guard.failure(error, (cause) => mapGoogleError(this.provider, cause));
    } finally {
      guard.dispose();
    }
  }
}
