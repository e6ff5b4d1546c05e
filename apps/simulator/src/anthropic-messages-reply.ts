import { canonicalJson } from './deterministic-random.js';
import {
  type AnthropicVersion,
  type MessagesTurn,
  parseMessagesRequest,
  type ParsedMessagesRequest,
} from './anthropic-messages-request.js';
import type { MessagesContentBlock, MessagesRequest } from './anthropic-messages-schema.js';
import { generateReply, type ReplyOutputFormat, type ReplyRequest, type ReplyToolChoice } from './reply-generator.js';
import { countChatPromptTokens, type CountableMessage } from './token-counter.js';

export type AnthropicStopReason = 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use';

export type SimulatedContentBlock =
  { type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };

/** What the simulator answers to a Messages request; `simulatedAnthropicReply` and the server agree on it. */
export interface SimulatedAnthropicReply {
  /** The `content` blocks: one text block (none when the text is empty) or one tool_use block. */
  content: SimulatedContentBlock[];
  /** The reply's text; '' when it is a tool call. */
  text: string;
  stopReason: AnthropicStopReason;
  /** The stop sequence that ended the reply, when one did. */
  stopSequence: string | null;
  /** Counted like the OpenAI wire format (see `countChatPromptTokens`), the system prompt as a message. */
  inputTokens: number;
  outputTokens: number;
  /** Seed of the reply; the message id is derived from it. */
  replyHash: string;
}

function toolResultText(block: Extract<MessagesContentBlock, { type: 'tool_result' }>): string {
  const content = block.content ?? '';
  if (typeof content === 'string') return content;
  return content.flatMap((part) => (part.type === 'text' ? [part.text] : [])).join('\n');
}

function blockText(block: MessagesContentBlock): string {
  switch (block.type) {
    case 'text':
      return block.text;
    case 'tool_use':
      return `${block.name}(${canonicalJson(block.input)})`;
    case 'tool_result':
      return toolResultText(block);
    case 'image':
      return '';
  }
}

function turnText(turn: MessagesTurn): string {
  return turn.blocks
    .map(blockText)
    .filter((text) => text !== '')
    .join('\n');
}

function imageCount(turn: MessagesTurn): number {
  let count = 0;
  for (const block of turn.blocks) {
    if (block.type === 'image') count += 1;
    if (block.type === 'tool_result' && Array.isArray(block.content)) {
      count += block.content.filter((part) => part.type === 'image').length;
    }
  }
  return count;
}

function systemText(system: MessagesRequest['system']): string | undefined {
  if (system === undefined) return undefined;
  const text = typeof system === 'string' ? system : system.map((block) => block.text).join('\n');
  return text === '' ? undefined : text;
}

function toolChoiceOf(choice: MessagesRequest['tool_choice']): ReplyToolChoice {
  if (choice === undefined || choice.type === 'auto') return { mode: 'auto' };
  if (choice.type === 'any') return { mode: 'required' };
  if (choice.type === 'none') return { mode: 'none' };
  return { mode: 'function', name: choice.name };
}

function outputFormatOf(request: MessagesRequest): ReplyOutputFormat {
  const format = request.output_config?.format;
  return format ? { kind: 'json_schema', schema: format.schema } : { kind: 'text' };
}

/** Maps a validated Messages request onto the provider-neutral reply request. */
export function toAnthropicReplyRequest({ request, turns }: ParsedMessagesRequest): ReplyRequest {
  const system = systemText(request.system);
  return {
    model: request.model,
    messages: [
      ...(system === undefined ? [] : [{ role: 'system', text: system }]),
      ...turns.map((turn) => ({ role: turn.role, text: turnText(turn) })),
    ],
    sampling: {
      temperature: request.temperature,
      top_p: request.top_p,
      top_k: request.top_k,
      stop: request.stop_sequences,
    },
    maxOutputTokens: request.max_tokens,
    stopSequences: request.stop_sequences ?? [],
    tools: (request.tools ?? []).map((tool) => ({ name: tool.name, parameters: tool.input_schema })),
    toolChoice: toolChoiceOf(request.tool_choice),
    outputFormat: outputFormatOf(request),
  };
}

/** Which stop sequence cut `text` short of the uncut reply, if any. */
function matchedStopSequence(replyRequest: ReplyRequest, text: string): string | null {
  const sequences = replyRequest.stopSequences ?? [];
  if (sequences.length === 0) return null;
  // Same hash (stop sequences and the cap are not part of it), so the same words, uncut.
  const uncut = generateReply({ ...replyRequest, stopSequences: [], maxOutputTokens: undefined }).content ?? '';
  const rest = uncut.slice(text.length);
  return sequences.find((sequence) => sequence !== '' && rest.startsWith(sequence)) ?? null;
}

/** The reply to an already validated request (the server path: validation ran once). */
export function anthropicReplyFor(parsed: ParsedMessagesRequest): SimulatedAnthropicReply {
  const replyRequest = toAnthropicReplyRequest(parsed);
  const reply = generateReply(replyRequest);
  const system = systemText(parsed.request.system);
  const countable: CountableMessage[] = [
    ...(system === undefined ? [] : [{ role: 'system', text: system }]),
    ...parsed.turns.map((turn) => ({ role: turn.role, text: turnText(turn), imageCount: imageCount(turn) })),
  ];
  const tools = parsed.request.tools ?? [];
  const inputTokens = countChatPromptTokens(countable, tools.length > 0 ? canonicalJson(tools) : undefined);
  const base = { inputTokens, outputTokens: reply.completionTokens, replyHash: reply.replyHash };
  const call = reply.toolCalls[0];
  if (call !== undefined) {
    const input = JSON.parse(call.arguments) as Record<string, unknown>;
    const id = `toolu_${call.id.slice('call_'.length)}`;
    return {
      ...base,
      content: [{ type: 'tool_use', id, name: call.name, input }],
      text: '',
      stopReason: 'tool_use',
      stopSequence: null,
    };
  }
  const text = reply.content ?? '';
  const stopSequence = reply.finishReason === 'stop' ? matchedStopSequence(replyRequest, text) : null;
  return {
    ...base,
    content: text === '' ? [] : [{ type: 'text', text }],
    text,
    stopReason: reply.finishReason === 'length' ? 'max_tokens' : stopSequence !== null ? 'stop_sequence' : 'end_turn',
    stopSequence,
  };
}

/**
 * What the simulator answers to a `POST /v1/messages` body: a pure function of the model, system
 * prompt, messages, sampling fields, stop sequences, tools, output format and `max_tokens`.
 * Typed `unknown` so SDK param objects pass without casts; throws a `WireError` if invalid.
 */
export function simulatedAnthropicReply(body: unknown, version?: AnthropicVersion): SimulatedAnthropicReply {
  return anthropicReplyFor(parseMessagesRequest(body, version));
}
