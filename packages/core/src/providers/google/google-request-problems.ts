import type { RequestProblem } from '../../catalog/model-catalog.js';
import type { ChatRequest } from '../../jobs/chat-request-schema.js';
import { toGoogleRequest } from './to-google-request.js';

/**
 * Every field of `request` Gemini cannot honour, for `ProviderDescriptor.chatRequestProblems`.
 * It is the translation's own list, so what the catalog refuses and what the adapter cannot send
 * are the same by construction.
 */
export function googleChatRequestProblems(request: ChatRequest): RequestProblem[] {
  return toGoogleRequest(request).problems;
}
