export {
  ANTHROPIC_DEFAULT_BASE_URL,
  ANTHROPIC_DEFAULT_MAX_TOKENS,
  createAnthropicProvider,
  type AnthropicProviderOptions,
} from './anthropic-provider.js';
export { AnthropicChatModel, type AnthropicChatModelOptions } from './anthropic-chat-model.js';
export { anthropicChatRequestProblems } from './anthropic-request-problems.js';
export {
  JSON_OBJECT_TOOL_NAME,
  toAnthropicRequest,
  type AnthropicRequestOptions,
  type AnthropicTranslation,
} from './to-anthropic-request.js';
export { mapAnthropicError } from './map-anthropic-error.js';
export { AnthropicStreamAccumulator } from './anthropic-stream-accumulator.js';
export { mapAnthropicStopReason } from './map-anthropic-stop-reason.js';
export { ANTHROPIC_IMAGE_MEDIA_TYPES } from './anthropic-image-source.js';
