import { z } from 'zod';
import { promptTokensDetails, type ChatCompletionResult, type ToolCallResult } from '../chat-completion.js';
import { ProviderError } from '../provider-error.js';
import { mapOpenAIFinishReason } from './map-openai-finish-reason.js';

// Only the fields llmq reads; OpenAI-compatible servers differ in everything else.
const chunkSchema = z.object({
  id: z.string().optional(),
  created: z.number().optional(),
  choices: z
    .array(
      z.object({
        index: z.number().optional(),
        delta: z
          .object({
            content: z.string().nullable().optional(),
            refusal: z.string().nullable().optional(),
            tool_calls: z
              .array(
                z.object({
                  index: z.number(),
                  id: z.string().nullable().optional(),
                  function: z
                    .object({ name: z.string().nullable().optional(), arguments: z.string().nullable().optional() })
                    .optional(),
                }),
              )
              .nullable()
              .optional(),
          })
          .optional(),
        finish_reason: z.string().nullable().optional(),
      }),
    )
    .default([]),
  usage: z
    .object({
      prompt_tokens: z.number(),
      completion_tokens: z.number().optional(),
      total_tokens: z.number().optional(),
      // Compatible servers send null, or details without a cached count.
      prompt_tokens_details: z.object({ cached_tokens: z.number().nullish() }).nullish(),
    })
    .nullable()
    .optional(),
});

/** Folds `chat.completion.chunk` events into one ChatCompletion (first choice only: llmq asks for one). */
export class OpenAIStreamAccumulator {
  readonly #provider: string;
  readonly #model: string;
  #id: string | undefined;
  #created: number | undefined;
  #content = '';
  #sawContent = false;
  #refusal = '';
  #finishReason: string | null | undefined;
  #usage: z.infer<typeof chunkSchema>['usage'];
  readonly #toolCalls = new Map<number, { id: string; name: string; arguments: string }>();
  #chunks = 0;

  constructor(options: { provider: string; model: string }) {
    this.#provider = options.provider;
    this.#model = options.model;
  }

  /** Takes one chunk; returns the text it added (possibly empty). */
  add(raw: unknown): string {
    const parsed = chunkSchema.safeParse(raw);
    if (!parsed.success) {
      throw new ProviderError({ provider: this.#provider, kind: 'provider_error', message: 'malformed stream chunk' });
    }
    const chunk = parsed.data;
    this.#chunks += 1;
    this.#id ??= chunk.id;
    this.#created ??= chunk.created;
    if (chunk.usage) this.#usage = chunk.usage;
    let text = '';
    for (const choice of chunk.choices) {
      if ((choice.index ?? 0) !== 0) continue;
      if (choice.finish_reason) this.#finishReason = choice.finish_reason;
      const delta = choice.delta;
      if (delta?.content) {
        text += delta.content;
        this.#sawContent = true;
      }
      if (delta?.refusal) this.#refusal += delta.refusal;
      for (const call of delta?.tool_calls ?? []) {
        const existing = this.#toolCalls.get(call.index) ?? { id: '', name: '', arguments: '' };
        if (call.id) existing.id = call.id;
        if (call.function?.name) existing.name += call.function.name;
        if (call.function?.arguments) existing.arguments += call.function.arguments;
        this.#toolCalls.set(call.index, existing);
      }
    }
    this.#content += text;
    return text;
  }

  result(): ChatCompletionResult {
    if (this.#chunks === 0 || (this.#finishReason === undefined && !this.#sawContent && this.#toolCalls.size === 0)) {
      throw new ProviderError({
        provider: this.#provider,
        kind: 'provider_error',
        message: 'the stream ended without an answer',
      });
    }
    const toolCalls: ToolCallResult[] = [...this.#toolCalls.entries()]
      .sort(([left], [right]) => left - right)
      .map(([index, call]) => ({
        id: call.id || `call_${index}`,
        type: 'function',
        function: { name: call.name, arguments: call.arguments },
      }));
    const promptTokens = this.#usage?.prompt_tokens ?? 0;
    const completionTokens = this.#usage?.completion_tokens ?? 0;
    return {
      id: this.#id ?? `chatcmpl-${Date.now().toString(36)}`,
      object: 'chat.completion',
      created: this.#created ?? Math.floor(Date.now() / 1000),
      model: this.#model,
      provider: this.#provider,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: this.#sawContent ? this.#content : null,
            ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
            ...(this.#refusal !== '' ? { refusal: this.#refusal } : {}),
          },
          finish_reason: mapOpenAIFinishReason(this.#finishReason),
        },
      ],
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
        total_tokens: this.#usage?.total_tokens ?? promptTokens + completionTokens,
        prompt_tokens_details: promptTokensDetails(this.#usage?.prompt_tokens_details?.cached_tokens),
      },
    };
  }
}
