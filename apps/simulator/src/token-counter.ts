import {
  countTextTokens as countBounded,
  decodeTokens as decodeBounded,
  encodeText as encodeBounded,
} from '@llmq/tokenizer';

/**
 * Real token counts with gpt-tokenizer's default encoding, o200k_base (GPT-4o, GPT-4.1, o-series,
 * GPT-5). Every model name is counted with it: the simulator is about plausible numbers that a
 * test can recompute, not per-model fidelity.
 */

/** Overhead OpenAI adds around each chat message (`<|start|>role<|message|>...<|end|>`). */
export const TOKENS_PER_MESSAGE = 3;
/** Extra tokens for a message carrying a `name`. */
export const TOKENS_PER_NAME = 1;
/** Priming of the assistant reply (`<|start|>assistant<|message|>`). */
export const TOKENS_FOR_REPLY_PRIMING = 3;
/** What one image part costs: OpenAI's flat price for a low-detail image. */
export const TOKENS_PER_IMAGE = 85;

/** Special tokens are plain text, and the cost is linear in the text (see `@llmq/tokenizer`). */
export function countTextTokens(text: string): number {
  return countBounded(text);
}

export function encodeText(text: string): number[] {
  return encodeBounded(text);
}

export function decodeTokens(tokens: readonly number[]): string {
  return decodeBounded(tokens);
}

/** A chat message reduced to what prompt counting needs. */
export interface CountableMessage {
  role: string;
  /** Concatenated text of the message, including tool-call names and arguments. */
  text: string;
  name?: string | undefined;
  /** Number of image parts in the message. */
  imageCount?: number | undefined;
}

/**
 * Prompt tokens the way OpenAI's cookbook estimates them ("How to count tokens with tiktoken"):
 *   3 (reply priming)
 *   + for each message: 3 + tokens(role) + tokens(text) + (name ? 1 + tokens(name) : 0)
 *                       + 85 per image part
 *   + tokens(JSON of the tool definitions), when tools are given (OpenAI's real tool encoding
 *     is private; the JSON is a stable stand-in of the same order of magnitude).
 */
export function countChatPromptTokens(messages: readonly CountableMessage[], toolDefinitionsJson?: string): number {
  let total = TOKENS_FOR_REPLY_PRIMING;
  for (const message of messages) {
    total += TOKENS_PER_MESSAGE + countTextTokens(message.role) + countTextTokens(message.text);
    if (message.name !== undefined && message.name !== '') {
      total += TOKENS_PER_NAME + countTextTokens(message.name);
    }
    total += (message.imageCount ?? 0) * TOKENS_PER_IMAGE;
  }
  if (toolDefinitionsJson !== undefined) total += countTextTokens(toolDefinitionsJson);
  return total;
}

/**
 * The longest prefix of `text` that fits in `maxTokens` tokens, cut on a token boundary and never
 * inside a multi-byte character (a cut there would decode to U+FFFD).
 */
export function truncateToTokens(text: string, maxTokens: number): { text: string; truncated: boolean } {
  const tokens = encodeText(text);
  if (tokens.length <= maxTokens) return { text, truncated: false };
  for (let length = maxTokens; length > 0; length -= 1) {
    const prefix = decodeTokens(tokens.slice(0, length));
    if (!prefix.endsWith('\uFFFD')) return { text: prefix, truncated: true };
  }
  return { text: '', truncated: true };
}
