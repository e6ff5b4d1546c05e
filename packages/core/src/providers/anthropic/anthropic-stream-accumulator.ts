import { z } from 'zod';
import { promptTokensDetails, type ChatCompletionResult, type ToolCallResult } from '../chat-completion.js';
import { ProviderError } from '../provider-error.js';
import { mapAnthropicStopReason } from './map-anthropic-stop-reason.js';

// Only the fields llmq reads, so new block and delta kinds pass through untouched.
const usageSchema = z.object({
  input_tokens: z.number().nullish(),
  output_tokens: z.number().nullish(),
  cache_creation_input_tokens: z.number().nullish(),
  cache_read_input_tokens: z.number().nullish(),
});

const eventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('message_start'), message: z.object({ id: z.string(), usage: usageSchema.nullish() }) }),
  z.object({
    type: z.literal('content_block_start'),
    index: z.number(),
    content_block: z.object({
      type: z.string(),
      text: z.string().optional(),
      id: z.string().optional(),
      name: z.string().optional(),
      input: z.unknown().optional(),
    }),
  }),
  z.object({
    type: z.literal('content_block_delta'),
    index: z.number(),
    delta: z.object({ type: z.string(), text: z.string().optional(), partial_json: z.string().optional() }),
  }),
  z.object({
    type: z.literal('message_delta'),
    delta: z.object({
      stop_reason: z.string().nullish(),
      stop_details: z.object({ category: z.string().nullish(), explanation: z.string().nullish() }).nullish(),
    }),
    usage: usageSchema.nullish(),
  }),
  z.object({ type: z.literal('message_stop') }),
]);

type StreamEvent<Type extends string> = Extract<z.infer<typeof eventSchema>, { type: Type }>;

const READ_EVENTS: ReadonlySet<string> = new Set([
  'message_start',
  'content_block_start',
  'content_block_delta',
  'message_delta',
  'message_stop',
]);

interface ToolUse {
  id: string;
  name: string;
  /** Streamed `partial_json` pieces joined; '' until the first arrives. */
  json: string;
  /** The `input` the block opened with, used when no piece arrives. */
  openingInput: unknown;
}

/**
 * Folds Anthropic's streamed Message events into one ChatCompletion. With `jsonObjectTool` set,
 * that tool's input is the answer: its JSON pieces are content, not a tool call.
 */
export class AnthropicStreamAccumulator {
  readonly #provider: string;
  readonly #model: string;
  readonly #jsonObjectTool: string | undefined;
  #id: string | undefined;
  #content = '';
  #sawText = false;
  readonly #toolUses = new Map<number, ToolUse>();
  #stopReason: string | null | undefined;
  #refusal: string | undefined;
  #usage: z.infer<typeof usageSchema> = {};
  #stopped = false;

  constructor(options: { provider: string; model: string; jsonObjectTool?: string | undefined }) {
    this.#provider = options.provider;
    this.#model = options.model;
    this.#jsonObjectTool = options.jsonObjectTool;
  }

  /** Takes one stream event; returns the answer text it added (possibly empty). */
  add(raw: unknown): string {
    const type = typeof raw === 'object' && raw !== null ? (raw as { type?: unknown }).type : undefined;
    if (typeof type !== 'string' || !READ_EVENTS.has(type)) return ''; // ping, content_block_stop, newer kinds
    const parsed = eventSchema.safeParse(raw);
    if (!parsed.success) throw this.#failure(`malformed ${type} event`);
    const event = parsed.data;
    switch (event.type) {
      case 'message_start':
        this.#id = event.message.id;
        this.#mergeUsage(event.message.usage);
        return '';
      case 'content_block_start':
        return this.#startBlock(event.index, event.content_block);
      case 'content_block_delta':
        return this.#delta(event.index, event.delta);
      case 'message_delta': {
        this.#stopReason = event.delta.stop_reason;
        const details = event.delta.stop_details;
        if (event.delta.stop_reason === 'refusal') {
          this.#refusal = details?.explanation ?? (details?.category ? `refused (${details.category})` : 'refused');
        }
        this.#mergeUsage(event.usage);
        return '';
      }
      case 'message_stop':
        this.#stopped = true;
        return '';
    }
  }

  result(): ChatCompletionResult {
    if (this.#id === undefined || !this.#stopped) {
      throw this.#failure(this.#id === undefined ? 'the stream ended without an answer' : 'the stream ended early');
    }
    const toolCalls: ToolCallResult[] = [];
    let jsonAnswer: string | undefined;
    for (const [, toolUse] of [...this.#toolUses.entries()].sort(([left], [right]) => left - right)) {
      const input = toolUse.json !== '' ? toolUse.json : JSON.stringify(toolUse.openingInput ?? {});
      if (toolUse.name === this.#jsonObjectTool) jsonAnswer = input;
      else toolCalls.push({ id: toolUse.id, type: 'function', function: { name: toolUse.name, arguments: input } });
    }
    const content = jsonAnswer ?? (this.#sawText ? this.#content : null);
    // The forced json tool always ends the turn with tool_use; for the caller it is a plain answer.
    const finishReason =
      jsonAnswer !== undefined && this.#stopReason === 'tool_use' ? 'stop' : mapAnthropicStopReason(this.#stopReason);
    const promptTokens =
      (this.#usage.input_tokens ?? 0) +
      (this.#usage.cache_creation_input_tokens ?? 0) +
      (this.#usage.cache_read_input_tokens ?? 0);
    const completionTokens = this.#usage.output_tokens ?? 0;
    return {
      id: this.#id,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: this.#model,
      provider: this.#provider,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content,
            ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
            ...(this.#refusal !== undefined ? { refusal: this.#refusal } : {}),
          },
          finish_reason: finishReason,
        },
      ],
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
        total_tokens: promptTokens + completionTokens,
        // Cache reads are already counted in prompt_tokens above; writes are not reads, so not cached.
        prompt_tokens_details: promptTokensDetails(this.#usage.cache_read_input_tokens),
      },
    };
  }

  #startBlock(index: number, block: StreamEvent<'content_block_start'>['content_block']): string {
    if (block.type === 'text') {
      this.#sawText = true;
      return this.#appendText(block.text ?? '');
    }
    if (block.type === 'tool_use') {
      if (block.id === undefined || block.name === undefined) throw this.#failure('tool_use block without id or name');
      this.#toolUses.set(index, { id: block.id, name: block.name, json: '', openingInput: block.input });
    }
    return ''; // thinking and other block kinds are not part of the answer
  }

  #delta(index: number, delta: StreamEvent<'content_block_delta'>['delta']): string {
    if (delta.type === 'text_delta') return this.#appendText(delta.text ?? '');
    if (delta.type !== 'input_json_delta') return '';
    const toolUse = this.#toolUses.get(index);
    if (toolUse === undefined) throw this.#failure(`input_json_delta for block ${index}, which is no tool_use`);
    const piece = delta.partial_json ?? '';
    toolUse.json += piece;
    return toolUse.name === this.#jsonObjectTool ? piece : '';
  }

  #appendText(text: string): string {
    this.#content += text;
    return text;
  }

  #mergeUsage(usage: z.infer<typeof usageSchema> | null | undefined): void {
    if (!usage) return;
    // message_delta counts are cumulative; a null there means "unchanged", not zero.
    for (const key of Object.keys(usage) as Array<keyof typeof usage>) {
      const value = usage[key];
      if (value !== null && value !== undefined) this.#usage[key] = value;
    }
  }

  #failure(message: string): ProviderError {
    return new ProviderError({ provider: this.#provider, kind: 'provider_error', message });
  }
}
