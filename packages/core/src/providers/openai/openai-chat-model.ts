import type OpenAI from 'openai';
import type { ChatRequest } from '../../jobs/chat-request-schema.js';
import { CallGuard } from '../call-guard.js';
import type { ChatCompletionResult } from '../chat-completion.js';
import type { CallOptions, ChatModel } from '../provider.js';
import { mapOpenAIError } from './map-openai-error.js';
import { OpenAIStreamAccumulator } from './openai-stream-accumulator.js';

export interface OpenAIChatModelOptions {
  provider: string;
  modelId: string;
  client: OpenAI;
}

/** Chat through the openai SDK: OpenAI itself and every OpenAI-compatible server. */
export class OpenAIChatModel implements ChatModel {
  readonly provider: string;
  readonly modelId: string;
  readonly #client: OpenAI;

  constructor(options: OpenAIChatModelOptions) {
    this.provider = options.provider;
    this.modelId = options.modelId;
    this.#client = options.client;
  }

  async doGenerate(request: ChatRequest, options: CallOptions): Promise<ChatCompletionResult> {
    const guard = new CallGuard({ provider: this.provider, ...options });
    const body = {
      ...request,
      model: this.modelId,
      stream: true,
      stream_options: { include_usage: true },
      ...(options.serviceTier === undefined ? {} : { service_tier: options.serviceTier }),
    } as OpenAI.ChatCompletionCreateParamsStreaming;
    const accumulator = new OpenAIStreamAccumulator({
      provider: this.provider,
      model: `${this.provider}/${this.modelId}`,
    });
    try {
      const { data: stream, response } = await this.#client.chat.completions
        .create(body, { signal: guard.signal })
        .withResponse();
      options.onResponseHeaders?.(response.headers);
      for await (const chunk of stream) {
        guard.touch();
        const delta = accumulator.add(chunk);
        if (delta !== '') options.onTextDelta?.(delta);
      }
      return accumulator.result();
    } catch (error) {
      throw guard.failure(error, (cause) => mapOpenAIError(this.provider, cause));
    } finally {
      guard.dispose();
    }
  }
}
