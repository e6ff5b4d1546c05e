import type { SimulatedChatReply } from './openai-chat-request.js';

/**
 * ChatCompletion and ChatCompletionChunk bodies in OpenAI's exact shape (field order included),
 * built from a `SimulatedChatReply`. Pure, so streaming and non-streaming can be compared in tests.
 */

export interface CompletionIdentity {
  /** "chatcmpl-" + hash. */
  id: string;
  /** Unix seconds. */
  created: number;
  /** The model as the request named it. */
  model: string;
}

/** Fingerprint the simulator reports; a fixed value marks answers as simulated. */
export const SYSTEM_FINGERPRINT = 'fp_simulator';

/** OpenAI's usage; `cachedTokens` are part of `prompt_tokens`, as on the real API. */
function usageOf(reply: SimulatedChatReply, cachedTokens: number) {
  return {
    prompt_tokens: reply.promptTokens,
    completion_tokens: reply.completionTokens,
    total_tokens: reply.promptTokens + reply.completionTokens,
    prompt_tokens_details: { cached_tokens: cachedTokens, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

function toolCallsOf(reply: SimulatedChatReply) {
  return reply.toolCalls.map((call) => ({
    id: call.id,
    type: 'function' as const,
    function: { name: call.name, arguments: call.arguments },
  }));
}

/** `cachedTokens`: prompt tokens read from the key's prompt cache. */
export function chatCompletionBody(identity: CompletionIdentity, reply: SimulatedChatReply, cachedTokens = 0) {
  const message =
    reply.toolCalls.length > 0
      ? { role: 'assistant', content: null, tool_calls: toolCallsOf(reply), refusal: null, annotations: [] }
      : { role: 'assistant', content: reply.content, refusal: null, annotations: [] };
  return {
    id: identity.id,
    object: 'chat.completion',
    created: identity.created,
    model: identity.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: reply.finishReason }],
    usage: usageOf(reply, cachedTokens),
    service_tier: 'default',
    system_fingerprint: SYSTEM_FINGERPRINT,
  };
}

/** Words per content chunk: a few tokens each, like a real stream. */
export const WORDS_PER_CHUNK = 3;
/** Characters per tool-argument fragment. */
export const ARGUMENT_CHARACTERS_PER_CHUNK = 12;

/**
 * Splits text into pieces of a few words each whose concatenation is exactly `text`; each piece
 * keeps the whitespace before its first word, as OpenAI's token deltas do (" word").
 */
export function splitIntoChunks(text: string, wordsPerChunk: number = WORDS_PER_CHUNK): string[] {
  const words = text.match(/\s*\S+/g) ?? [];
  const pieces: string[] = [];
  for (let index = 0; index < words.length; index += wordsPerChunk) {
    pieces.push(words.slice(index, index + wordsPerChunk).join(''));
  }
  const covered = pieces.join('').length;
  if (covered < text.length) pieces.push(text.slice(covered));
  return pieces;
}

function splitEvery(text: string, size: number): string[] {
  const pieces: string[] = [];
  for (let index = 0; index < text.length; index += size) pieces.push(text.slice(index, index + size));
  return pieces;
}

/**
 * The `data:` payloads of a streamed chat completion, in order: role chunk, content or tool-call
 * deltas, the finish chunk, the usage chunk when `includeUsage`, then "[DONE]". With
 * `include_usage` OpenAI sends `"usage": null` on every chunk but the last, so this does too.
 * `cachedTokens`: prompt tokens read from the key's prompt cache, reported in the usage chunk.
 */
export function chatCompletionChunkPayloads(
  identity: CompletionIdentity,
  reply: SimulatedChatReply,
  includeUsage: boolean,
  cachedTokens = 0,
): string[] {
  const chunk = (delta: object, finishReason: string | null) =>
    JSON.stringify({
      id: identity.id,
      object: 'chat.completion.chunk',
      created: identity.created,
      model: identity.model,
      service_tier: 'default',
      system_fingerprint: SYSTEM_FINGERPRINT,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
      ...(includeUsage ? { usage: null } : {}),
    });
  const payloads: string[] = [];
  if (reply.toolCalls.length > 0) {
    reply.toolCalls.forEach((call, index) => {
      const opening = { index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } };
      const openingDelta =
        index === 0 ? { role: 'assistant', content: null, tool_calls: [opening] } : { tool_calls: [opening] };
      payloads.push(chunk(openingDelta, null));
      for (const fragment of splitEvery(call.arguments, ARGUMENT_CHARACTERS_PER_CHUNK)) {
        payloads.push(chunk({ tool_calls: [{ index, function: { arguments: fragment } }] }, null));
      }
    });
  } else {
    payloads.push(chunk({ role: 'assistant', content: '', refusal: null }, null));
    for (const piece of splitIntoChunks(reply.content ?? '')) payloads.push(chunk({ content: piece }, null));
  }
  payloads.push(chunk({}, reply.finishReason));
  if (includeUsage) {
    payloads.push(
      JSON.stringify({
        id: identity.id,
        object: 'chat.completion.chunk',
        created: identity.created,
        model: identity.model,
        service_tier: 'default',
        system_fingerprint: SYSTEM_FINGERPRINT,
        choices: [],
        usage: usageOf(reply, cachedTokens),
      }),
    );
  }
  payloads.push('[DONE]');
  return payloads;
}
