import type { SimulatedChatReply } from './openai-chat-request.js';
import { splitIntoChunks } from './openai-chat-response.js';

/**
 * `GenerateContentResponse` bodies in the Gemini API's shape, built from a reply. Pure, so the
 * streamed and the plain answer of one request can be compared in tests.
 */

export interface GeminiResponseIdentity {
  /** What the API reports in `responseId`. */
  responseId: string;
  /** The model as the URL named it; the API reports it in `modelVersion`. */
  modelVersion: string;
}

type GeminiFinishReason = 'STOP' | 'MAX_TOKENS';

function finishReasonOf(reply: SimulatedChatReply): GeminiFinishReason {
  // Gemini has no tool-call finish reason: a function call ends with STOP.
  return reply.finishReason === 'length' ? 'MAX_TOKENS' : 'STOP';
}

/**
 * Gemini's usage. Cached tokens are part of `promptTokenCount`; like every zero field of the API's
 * JSON, `cachedContentTokenCount` and `cacheTokensDetails` are left out when nothing was cached.
 */
function usageOf(reply: SimulatedChatReply, complete: boolean, cachedTokens: number) {
  const promptTokensDetails = [{ modality: 'TEXT', tokenCount: reply.promptTokens }];
  const cached = cachedTokens > 0;
  const cachedCount = cached ? { cachedContentTokenCount: cachedTokens } : {};
  const cacheDetails = cached ? { cacheTokensDetails: [{ modality: 'TEXT', tokenCount: cachedTokens }] } : {};
  if (!complete) {
    // Mid-stream chunks carry the prompt count only; the totals come with the last chunk.
    return {
      promptTokenCount: reply.promptTokens,
      totalTokenCount: reply.promptTokens,
      ...cachedCount,
      promptTokensDetails,
      ...cacheDetails,
    };
  }
  return {
    promptTokenCount: reply.promptTokens,
    candidatesTokenCount: reply.completionTokens,
    totalTokenCount: reply.promptTokens + reply.completionTokens,
    ...cachedCount,
    promptTokensDetails,
    ...cacheDetails,
  };
}

function functionCallParts(reply: SimulatedChatReply) {
  return reply.toolCalls.map((call) => ({
    functionCall: { name: call.name, args: JSON.parse(call.arguments) as Record<string, unknown> },
  }));
}

function candidate(parts: readonly object[], finishReason: GeminiFinishReason | undefined) {
  // An empty answer has a content without parts, as the API sends it (e.g. MAX_TOKENS at once).
  const content = parts.length > 0 ? { parts, role: 'model' } : { role: 'model' };
  return { content, ...(finishReason ? { finishReason } : {}), index: 0 };
}

/** `cachedTokens`: prompt tokens read from the key's prompt cache. */
export function generateContentBody(identity: GeminiResponseIdentity, reply: SimulatedChatReply, cachedTokens = 0) {
  const parts = reply.toolCalls.length > 0 ? functionCallParts(reply) : reply.content ? [{ text: reply.content }] : [];
  return {
    candidates: [candidate(parts, finishReasonOf(reply))],
    usageMetadata: usageOf(reply, true, cachedTokens),
    modelVersion: identity.modelVersion,
    responseId: identity.responseId,
  };
}

/**
 * The `data:` payloads of `streamGenerateContent?alt=sse`: one chunk per few words (or one chunk
 * with every function call), the finish reason and full usage on the last one. Gemini sends no
 * `[DONE]` sentinel: the stream just ends. `cachedTokens`: prompt tokens read from the key's prompt
 * cache, on every chunk with the prompt count.
 */
export function streamGenerateContentPayloads(
  identity: GeminiResponseIdentity,
  reply: SimulatedChatReply,
  cachedTokens = 0,
): string[] {
  const finishReason = finishReasonOf(reply);
  const chunk = (parts: readonly object[], last: boolean) =>
    JSON.stringify({
      candidates: [candidate(parts, last ? finishReason : undefined)],
      usageMetadata: usageOf(reply, last, cachedTokens),
      modelVersion: identity.modelVersion,
      responseId: identity.responseId,
    });
  if (reply.toolCalls.length > 0) return [chunk(functionCallParts(reply), true)];
  const pieces = splitIntoChunks(reply.content ?? '');
  if (pieces.length === 0) return [chunk([], true)];
  return pieces.map((piece, index) => chunk([{ text: piece }], index === pieces.length - 1));
}
