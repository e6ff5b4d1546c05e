import type { RequestProblem } from '../../catalog/model-catalog.js';
import type { ChatRequest } from '../../jobs/chat-request-schema.js';
import { toAnthropicRequest } from './to-anthropic-request.js';

/**
 * Every field of `request` Anthropic cannot honour, for the catalog to refuse at submit time.
 * It is the translation's own list, so what passes here is exactly what the adapter can send.
 */
export function anthropicChatRequestProblems(request: ChatRequest): RequestProblem[] {
  // The model and the output cap do not change which fields translate.
  return toAnthropicRequest(request, { modelId: 'any', defaultMaxTokens: 1 }).problems;
}
