import { createHash } from 'node:crypto';
import type { ChatRequest } from '../jobs/chat-request-schema.js';

/**
 * Characters of prompt that make up a cacheable prefix: providers cache prompts from about 1,024
 * tokens, roughly 4,096 characters of English. Shorter prompts are never cached, so they need no
 * particular account.
 */
export const PROMPT_PREFIX_CHARS = 4_096;

/**
 * A short digest of the first `PROMPT_PREFIX_CHARS` characters of a chat prompt, in the order
 * providers cache it (tools, then messages), or undefined for a prompt shorter than that. Jobs
 * with the same digest share a cacheable prefix. Reads at most that many characters of text, so
 * its cost does not grow with the prompt.
 */
export function promptPrefixDigest(request: Pick<ChatRequest, 'messages' | 'tools'>): string | undefined {
  const pieces: string[] = [];
  let length = 0;
  const take = (text: string): boolean => {
    const piece = text.slice(0, PROMPT_PREFIX_CHARS - length);
    pieces.push(piece);
    length += piece.length;
    return length >= PROMPT_PREFIX_CHARS;
  };
  const full = () => createHash('sha256').update(pieces.join('\u0000')).digest('base64url').slice(0, 16);
  for (const tool of request.tools ?? []) {
    if (take(`${tool.function.name}\u0000${tool.function.description ?? ''}`)) return full();
  }
  for (const message of request.messages) {
    if (take(message.role)) return full();
    const content = message.content;
    if (typeof content === 'string') {
      if (take(content)) return full();
      continue;
    }
    for (const part of content ?? []) {
      if (take(part.type === 'text' ? part.text : part.image_url.url)) return full();
    }
  }
  return undefined;
}
