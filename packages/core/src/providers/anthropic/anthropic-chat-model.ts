import type Anthropic from '@anthropic-ai/sdk';
import type { ChatRequest } from '../../jobs/chat-request-schema.js';
import { CallGuard } from '../call-guard.js';
import type { ChatCompletionResult } from '../chat-completion.js';
import type { CallOptions, ChatModel } from '../provider.js';
import { ProviderError } from '../provider-error.js';
import { AnthropicStreamAccumulator } from './anthropic-stream-accumulator.js';
import { mapAnthropicError } from './map-anthropic-error.js';
import { toAnthropicRequest } from './to-anthropic-request.js';

export interface AnthropicChatModelOptions {
  provider: string;
  modelId: string;
  /** Undefined when no API key is configured: every call then fails with `authentication`. */
  client: Anthropic | undefined;
  /** `max_tokens` for requests that set no cap. */
  defaultMaxTokens: number;
}

/** Chat through the Anthropic SDK's streaming Messages API. */
export class AnthropicChatModel implements ChatModel {
  readonly provider: string;
  readonly modelId: string;
  readonly #client: Anthropic | undefined;
  readonly #defaultMaxTokens: number;

  constructor(options: AnthropicChatModelOptions) {
    this.provider = options.provider;
    this.modelId = options.modelId;
    this.#client = options.client;
    this.#defaultMaxTokens = options.defaultMaxTokens;
  }

  async doGenerate(request: ChatRequest, options: CallOptions): Promise<ChatCompletionResult> {
    const translation = toAnthropicRequest(request, {
      modelId: this.modelId,
      defaultMaxTokens: this.#defaultMaxTokens,
    });
    if (translation.problems.length > 0) {
      // The catalog refuses these at submit time; reaching here means a caller skipped it.
      const fields = translation.problems
        .map((problem) => `${problem.field} ${problem.message} by provider "${this.provider}"`)
        .join('; ');
      throw new ProviderError({ provider: this.provider, kind: 'invalid_request', message: fields });
    }
    if (this.#client === undefined) {
      throw new ProviderError({
        provider: this.provider,
        kind: 'authentication',
        message: `no API key is configured for provider "${this.provider}"`,
      });
    }
    const guard = new CallGuard({ provider: this.provider, ...options });
    const accumulator = new AnthropicStreamAccumulator({
      provider: this.provider,
      model: `${this.provider}/${this.modelId}`,
      jsonObjectTool: translation.jsonObjectTool,
    });
    try {
      const stream = await this.#client.messages.create(translation.params, { signal: guard.signal });
      for await (const event of stream) {
        guard.touch();
        const delta = accumulator.add(event);
        if (delta !== '') options.onTextDelta?.(delta);
      }
      // The SDK ends the iteration quietly when its signal aborts mid-stream.
      if (guard.reason !== undefined) throw guard.reason;
      return accumulator.result();
    } catch (error) {
      throw guard.failure(error, (cause) => mapAnthropicError(this.provider, cause));
    } finally {
      guard.dispose();
    }
  }
}
