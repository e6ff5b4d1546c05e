import type { FinishReason } from '../chat-completion.js';

/** Gemini finish reasons that mean a safety or policy filter stopped the answer. */
const FILTERED = new Set([
  'SAFETY',
  'RECITATION',
  'BLOCKLIST',
  'PROHIBITED_CONTENT',
  'SPII',
  'IMAGE_SAFETY',
  'IMAGE_PROHIBITED_CONTENT',
  'IMAGE_RECITATION',
]);

/** Finish reasons that mean the model failed at calling a function: the answer is unusable. */
export const FAILED_FUNCTION_CALL_REASONS: ReadonlySet<string> = new Set([
  'MALFORMED_FUNCTION_CALL',
  'UNEXPECTED_TOOL_CALL',
  'TOO_MANY_TOOL_CALLS',
]);

/**
 * Gemini's `finishReason` in OpenAI's terms. Gemini has no tool-call reason: a turn that calls
 * functions ends with STOP, so `hasFunctionCalls` decides. OTHER, LANGUAGE and an absent reason
 * read as `stop`; CONTINUATION (more output would follow) as `length`.
 */
export function mapGoogleFinishReason(reason: string | undefined, hasFunctionCalls: boolean): FinishReason {
  if (reason !== undefined && FILTERED.has(reason)) return 'content_filter';
  if (reason === 'MAX_TOKENS' || reason === 'CONTINUATION') return 'length';
  return hasFunctionCalls ? 'tool_calls' : 'stop';
}
