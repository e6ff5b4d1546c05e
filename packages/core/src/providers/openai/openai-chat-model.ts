import type OpenAI from 'openai';
import type { ChatRequest } from '../../jobs/chat-request-schema.js';
import type { ChatCompletionResult } from '../chat-completion.js';
import type { CallOptions, ChatModel } from '../provider.js';
import { ProviderError } from '../provider-error.js';
import { mapOpenAIError } from './map-openai-error.js';
import { mapOpenAIFinishReason } from './map-openai-finish-reason.js';
import { openAIChatCompletionSchema } from './openai-response-schema.js';

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
    const body = { ...request, model: this.modelId } as OpenAI.ChatCompletionCreateParamsNonStreaming;
    let raw: unknown;
    try {
      raw = await this.#client.chat.completions.create(body, {
        signal: options.signal,
        timeout: options.timeoutMs,
      });
    } catch (error) {
      throw mapOpenAIError(this.provider, error);
    }
    const parsed = openAIChatCompletionSchema.safeParse(raw);
    if (!parsed.success) {
      throw new ProviderError({
        provider: this.provider,
        kind: 'provider_error',
        message: `malformed chat completion: ${parsed.error.issues[0]?.message ?? 'unknown shape'}`,
      });
    }
    const completion = parsed.data;
    const promptTokens = completion.usage?.prompt_tokens ?? 0;
    const completionTokens = completion.usage?.completion_tokens ?? 0;
    return {
      id: completion.id ?? `chatcmpl-${Date.now().toString(36)}`,
      object: 'chat.completion',
      created: completion.created ?? Math.floor(Date.now() / 1000),
      model: `${this.provider}/${this.modelId}`,
      provider: this.provider,
      choices: completion.choices.map((choice, index) => ({
        index: choice.index ?? index,
        message: {
          role: 'assistant',
          content: choice.message.content ?? null,
          ...(choice.message.tool_calls?.length
            ? {
                tool_calls: choice.message.tool_calls.map((call) => ({
                  id: call.id,
                  type: 'function' as const,
                  function: { name: call.function.name, arguments: call.function.arguments },
                })),
              }
            : {}),
          ...(choice.message.refusal ? { refusal: choice.message.refusal } : {}),
        },
        finish_reason: mapOpenAIFinishReason(choice.finish_reason),
      })),
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
        total_tokens: completion.usage?.total_tokens ?? promptTokens + completionTokens,
      },
      ...(completion.system_fingerprint !== undefined ? { system_fingerprint: completion.system_fingerprint } : {}),
    };
  }
}
