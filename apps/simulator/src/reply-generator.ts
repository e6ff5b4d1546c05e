import { createRandom, hashOf, pickWords, seedFromHash } from './deterministic-random.js';
import { placeholderForSchema } from './json-schema-placeholder.js';
import { countTextTokens, truncateToTokens } from './token-counter.js';

/**
 * The provider-neutral reply generator. Each wire format (OpenAI today; Anthropic and Gemini
 * later) maps its request onto a `ReplyRequest` and renders the `GeneratedReply` in its own shape,
 * so the same conversation gets the same answer whichever API it came through.
 */

/** One conversation turn reduced to plain text. */
export interface ReplyMessage {
  /** Wire role name: "system", "developer", "user", "assistant", "tool", ... */
  role: string;
  /** Text of the turn; tool calls a turn made are rendered into it as `name(arguments)`. */
  text: string;
}

/** A function the model may call. */
export interface ReplyTool {
  name: string;
  /** JSON Schema of the arguments; the call's arguments are a placeholder satisfying it. */
  parameters?: unknown;
}

export type ReplyToolChoice =
  { mode: 'auto' } | { mode: 'none' } | { mode: 'required' } | { mode: 'function'; name: string };

export type ReplyOutputFormat = { kind: 'text' } | { kind: 'json_object' } | { kind: 'json_schema'; schema: unknown };

export interface ReplyRequest {
  model: string;
  messages: readonly ReplyMessage[];
  /** Sampling fields (temperature, top_p, seed, stop, penalties): part of the seed, as on a real model. */
  sampling: Readonly<Record<string, unknown>>;
  /** Output cap in tokens; the reply is cut there with finish reason "length". Default: no cap. */
  maxOutputTokens?: number | undefined;
  /** The reply ends before the first occurrence of any of these. Default: none. */
  stopSequences?: readonly string[] | undefined;
  /** Default: no tools. */
  tools?: readonly ReplyTool[] | undefined;
  /** Default: auto. */
  toolChoice?: ReplyToolChoice | undefined;
  /** Default: text. */
  outputFormat?: ReplyOutputFormat | undefined;
}

export interface SimulatedToolCall {
  /** "call_" + 24 hex characters of the reply hash. */
  id: string;
  name: string;
  /** JSON text of the arguments object. */
  arguments: string;
}

export type ReplyFinishReason = 'stop' | 'length' | 'tool_calls';

export interface GeneratedReply {
  /** Text of the reply; null when the reply is a tool call. */
  content: string | null;
  toolCalls: SimulatedToolCall[];
  finishReason: ReplyFinishReason;
  /** Tokens of the content, or of the tool names plus arguments. */
  completionTokens: number;
  /** SHA-256 (hex) of model, messages and sampling: the seed, and the root of wire ids. */
  replyHash: string;
}

/** How much of the last user message the reply quotes, in characters (code points). */
export const QUOTED_CHARACTERS = 40;
/** Bounds of the number of placeholder words after the quote. */
export const MIN_REPLY_WORDS = 5;
export const MAX_REPLY_WORDS = 40;

function lastUserText(messages: readonly ReplyMessage[]): string {
  for (let index = messages.length - 1; index >= 0; index -= 1) {
    const message = messages[index];
    if (message?.role === 'user') return message.text;
  }
  return '';
}

function quoteOf(text: string): string {
  return Array.from(text).slice(0, QUOTED_CHARACTERS).join('');
}

function chooseTool(request: ReplyRequest): ReplyTool | undefined {
  const tools = request.tools ?? [];
  const choice = request.toolChoice ?? { mode: 'auto' };
  if (tools.length === 0 || choice.mode === 'none') return undefined;
  if (choice.mode === 'function') return tools.find((tool) => tool.name === choice.name);
  if (choice.mode === 'required') return tools[0];
  const lastMessage = request.messages.at(-1);
  const asksForTool = lastMessage?.role === 'user' && /weather/i.test(lastMessage.text);
  return asksForTool ? tools[0] : undefined;
}

function toolArguments(tool: ReplyTool, quote: string): string {
  const parameters = tool.parameters;
  const hasProperties = typeof parameters === 'object' && parameters !== null && 'properties' in parameters;
  return JSON.stringify(hasProperties ? placeholderForSchema(parameters) : { query: quote });
}

function textContent(request: ReplyRequest, random: () => number, seed: number): string {
  const quote = quoteOf(lastUserText(request.messages));
  const wordCount = MIN_REPLY_WORDS + (seed % (MAX_REPLY_WORDS - MIN_REPLY_WORDS + 1));
  const words = pickWords(random, wordCount).join(' ');
  const prose = `Simulated reply to: ${quote}\n\n${words}.`;
  const format = request.outputFormat ?? { kind: 'text' };
  if (format.kind === 'json_object') return JSON.stringify({ reply: prose });
  if (format.kind === 'json_schema') return JSON.stringify(placeholderForSchema(format.schema));
  return prose;
}

function cutAtStopSequence(text: string, stopSequences: readonly string[]): string {
  let end = text.length;
  for (const stop of stopSequences) {
    const index = stop === '' ? -1 : text.indexOf(stop);
    if (index >= 0 && index < end) end = index;
  }
  return text.slice(0, end);
}

/** The deterministic reply to `request`: a pure function of its fields. */
export function generateReply(request: ReplyRequest): GeneratedReply {
  const replyHash = hashOf({
    model: request.model,
    messages: request.messages,
    sampling: request.sampling,
  });
  const seed = seedFromHash(replyHash);
  const tool = chooseTool(request);
  if (tool !== undefined) {
    const call: SimulatedToolCall = {
      id: `call_${replyHash.slice(0, 24)}`,
      name: tool.name,
      arguments: toolArguments(tool, quoteOf(lastUserText(request.messages))),
    };
    return {
      content: null,
      toolCalls: [call],
      finishReason: 'tool_calls',
      completionTokens: countTextTokens(call.name) + countTextTokens(call.arguments),
      replyHash,
    };
  }
  const full = cutAtStopSequence(textContent(request, createRandom(seed), seed), request.stopSequences ?? []);
  const limit = request.maxOutputTokens;
  const { text, truncated } = limit === undefined ? { text: full, truncated: false } : truncateToTokens(full, limit);
  return {
    content: text,
    toolCalls: [],
    finishReason: truncated ? 'length' : 'stop',
    completionTokens: countTextTokens(text),
    replyHash,
  };
}
