import { z } from 'zod';
import { promptTokensDetails, type ChatCompletionResult, type ToolCallResult } from '../chat-completion.js';
import { ProviderError } from '../provider-error.js';
import { FAILED_FUNCTION_CALL_REASONS, mapGoogleFinishReason } from './map-google-finish-reason.js';

// Only the fields llmq reads from a `GenerateContentResponse` chunk.
const count = z.number().optional();
const chunkSchema = z.object({
  responseId: z.string().optional(),
  candidates: z
    .array(
      z.object({
        index: z.number().optional(),
        content: z
          .object({
            parts: z
              .array(
                z.object({
                  text: z.string().optional(),
                  thought: z.boolean().optional(),
                  functionCall: z
                    .object({
                      id: z.string().optional(),
                      name: z.string().optional(),
                      args: z.record(z.string(), z.unknown()).optional(),
                    })
                    .optional(),
                }),
              )
              .optional(),
          })
          .optional(),
        finishReason: z.string().optional(),
      }),
    )
    .optional(),
  promptFeedback: z.object({ blockReason: z.string().optional() }).optional(),
  usageMetadata: z
    .object({
      promptTokenCount: count,
      /** Part of promptTokenCount; Gemini leaves it out when nothing was cached. */
      cachedContentTokenCount: count,
      candidatesTokenCount: count,
      thoughtsTokenCount: count,
      toolUsePromptTokenCount: count,
      totalTokenCount: count,
    })
    .optional(),
});
type Usage = NonNullable<z.infer<typeof chunkSchema>['usageMetadata']>;

/**
 * Folds streamed `GenerateContentResponse` chunks into one ChatCompletion (first candidate only:
 * llmq asks for one). Each chunk's `usageMetadata` is a running total, so the last one counts.
 */
export class GoogleStreamAccumulator {
  readonly #provider: string;
  readonly #model: string;
  #id: string | undefined;
  #content = '';
  #sawText = false;
  readonly #toolCalls: ToolCallResult[] = [];
  #finishReason: string | undefined;
  #blockReason: string | undefined;
  #usage: Usage | undefined;

  constructor(options: { provider: string; model: string }) {
    this.#provider = options.provider;
    this.#model = options.model;
  }

  /** Takes one chunk; returns the answer text it added (possibly empty). */
  add(raw: unknown): string {
    const parsed = chunkSchema.safeParse(raw);
    if (!parsed.success) {
      throw new ProviderError({ provider: this.#provider, kind: 'provider_error', message: 'malformed stream chunk' });
    }
    const chunk = parsed.data;
    this.#id ??= chunk.responseId;
    if (chunk.usageMetadata) this.#usage = chunk.usageMetadata;
    if (chunk.promptFeedback?.blockReason) this.#blockReason = chunk.promptFeedback.blockReason;
    const candidate = chunk.candidates?.find((item) => (item.index ?? 0) === 0);
    let text = '';
    for (const part of candidate?.content?.parts ?? []) {
      // Thought summaries are the model's reasoning, not its answer.
      if (part.thought === true) continue;
      if (part.text !== undefined) {
        text += part.text;
        this.#sawText = true;
      }
      if (part.functionCall) {
        const index = this.#toolCalls.length;
        this.#toolCalls.push({
          // Gemini names calls only sometimes; OpenAI-shaped callers need an id to answer.
          id: part.functionCall.id ?? `call_${index}`,
          type: 'function',
          function: { name: part.functionCall.name ?? '', arguments: JSON.stringify(part.functionCall.args ?? {}) },
        });
      }
    }
    if (candidate?.finishReason) this.#finishReason = candidate.finishReason;
    this.#content += text;
    return text;
  }

  result(): ChatCompletionResult {
    const blocked = this.#blockReason !== undefined;
    const reason = this.#finishReason;
    if (!blocked && reason === undefined) {
      throw this.#failure('the stream ended without a finish reason');
    }
    if (!blocked && reason !== undefined && FAILED_FUNCTION_CALL_REASONS.has(reason)) {
      // Sampling differs on a retry, so this is worth another attempt.
      throw this.#failure(`the model failed to call a function (${reason})`);
    }
    const toolCalls = blocked ? [] : this.#toolCalls;
    return {
      id: this.#id ?? `gemini-${Date.now().toString(36)}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: this.#model,
      provider: this.#provider,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: !blocked && this.#sawText ? this.#content : null,
            ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
          },
          finish_reason: blocked ? 'content_filter' : mapGoogleFinishReason(reason, toolCalls.length > 0),
        },
      ],
      usage: this.#usageResult(),
    };
  }

  #usageResult(): ChatCompletionResult['usage'] {
    const usage = this.#usage;
    // Tool-use prompts are input the model read; thoughts are output it was billed for.
    const promptTokens = (usage?.promptTokenCount ?? 0) + (usage?.toolUsePromptTokenCount ?? 0);
    const completionTokens = (usage?.candidatesTokenCount ?? 0) + (usage?.thoughtsTokenCount ?? 0);
    return {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: usage?.totalTokenCount ?? promptTokens + completionTokens,
      prompt_tokens_details: promptTokensDetails(usage?.cachedContentTokenCount),
    };
  }

  #failure(message: string): ProviderError {
    return new ProviderError({ provider: this.#provider, kind: 'provider_error', message });
  }
}
