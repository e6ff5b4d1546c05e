import { writeEventFrames } from './sse-writer.js';
import type { ServerResponse } from 'node:http';
import type { SimulatedAnthropicReply } from './anthropic-messages-reply.js';
import { splitIntoChunks } from './openai-chat-response.js';

/**
 * The Message body and the streamed events in Anthropic's exact shapes, built from a
 * `SimulatedAnthropicReply`. Pure, so streaming and non-streaming can be compared in tests.
 */

export interface MessageIdentity {
  /** "msg_" + hash. */
  id: string;
  /** The model as the request named it. */
  model: string;
}

/** One server-sent event: Anthropic names every event (`event: content_block_delta`). */
export interface NamedEvent {
  event: string;
  data: string;
}

/** Characters per `input_json_delta` fragment. */
export const PARTIAL_JSON_CHARACTERS_PER_CHUNK = 12;

/**
 * Anthropic's usage. Unlike OpenAI's, `input_tokens` leaves out the tokens read from the cache:
 * the prompt is `input_tokens + cache_read_input_tokens` (nothing is ever written to a cache
 * here, so `cache_creation_input_tokens` stays 0).
 */
function usageOf(reply: SimulatedAnthropicReply, outputTokens: number, cachedTokens: number) {
  return {
    input_tokens: reply.inputTokens - cachedTokens,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: cachedTokens,
    output_tokens: outputTokens,
    service_tier: 'standard',
  };
}

/** `cachedTokens`: prompt tokens read from the key's prompt cache. */
export function anthropicMessageBody(identity: MessageIdentity, reply: SimulatedAnthropicReply, cachedTokens = 0) {
  return {
    id: identity.id,
    type: 'message',
    role: 'assistant',
    model: identity.model,
    content: reply.content,
    stop_reason: reply.stopReason,
    stop_sequence: reply.stopSequence,
    stop_details: null,
    container: null,
    usage: usageOf(reply, reply.outputTokens, cachedTokens),
  };
}

function splitEvery(text: string, size: number): string[] {
  const pieces: string[] = [];
  for (let index = 0; index < text.length; index += size) pieces.push(text.slice(index, index + size));
  return pieces;
}

/**
 * The events of a streamed Message, in order: message_start, a ping, then per content block
 * content_block_start / content_block_delta... / content_block_stop, then message_delta (stop
 * reason and cumulative usage) and message_stop. `cachedTokens`: prompt tokens read from the key's
 * prompt cache, in both usages.
 */
export function anthropicStreamEvents(
  identity: MessageIdentity,
  reply: SimulatedAnthropicReply,
  cachedTokens = 0,
): NamedEvent[] {
  const events: NamedEvent[] = [];
  const push = (payload: { type: string } & Record<string, unknown>) =>
    events.push({ event: payload.type, data: JSON.stringify(payload) });
  push({
    type: 'message_start',
    message: {
      ...anthropicMessageBody(identity, reply, cachedTokens),
      content: [],
      stop_reason: null,
      stop_sequence: null,
      // The real API reports a token or so at the start; the final count comes in message_delta.
      usage: usageOf(reply, Math.min(1, reply.outputTokens), cachedTokens),
    },
  });
  push({ type: 'ping' });
  reply.content.forEach((block, index) => {
    if (block.type === 'text') {
      push({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
      for (const text of splitIntoChunks(block.text)) {
        push({ type: 'content_block_delta', index, delta: { type: 'text_delta', text } });
      }
    } else {
      const opening = { type: 'tool_use', id: block.id, name: block.name, input: {} };
      push({ type: 'content_block_start', index, content_block: opening });
      for (const partial_json of splitEvery(JSON.stringify(block.input), PARTIAL_JSON_CHARACTERS_PER_CHUNK)) {
        push({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json } });
      }
    }
    push({ type: 'content_block_stop', index });
  });
  push({
    type: 'message_delta',
    delta: { stop_reason: reply.stopReason, stop_sequence: reply.stopSequence, stop_details: null },
    usage: {
      input_tokens: reply.inputTokens - cachedTokens,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: cachedTokens,
      output_tokens: reply.outputTokens,
    },
  });
  push({ type: 'message_stop' });
  return events;
}

/**
 * Writes named server-sent events (`event: <name>\ndata: <json>\n\n`). With no delay the whole
 * stream goes out in one write; with a delay, one timer at a time, cleared if the client leaves.
 */
export function writeNamedEventStream(
  response: ServerResponse,
  headers: Readonly<Record<string, string>>,
  events: readonly NamedEvent[],
  delayMs: number,
): void {
  writeEventFrames(
    response,
    headers,
    events.map(({ event, data }) => `event: ${event}\ndata: ${data}\n\n`),
    delayMs,
  );
}
