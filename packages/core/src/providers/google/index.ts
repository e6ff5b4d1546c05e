export { createGoogleProvider, type GoogleProviderOptions } from './google-provider.js';
export { createGoogleClient, GEMINI_API_ROOT, type GoogleClientOptions } from './google-client.js';
export { GoogleChatModel, type GoogleChatModelOptions } from './google-chat-model.js';
export {
  estimateEmbeddingTokens,
  GEMINI_MAX_EMBEDDINGS_PER_CALL,
  GoogleEmbeddingModel,
  type GoogleEmbeddingModelOptions,
} from './google-embedding-model.js';
export { googleChatRequestProblems } from './google-request-problems.js';
export { toGoogleRequest, type GoogleRequest, type GoogleTranslation } from './to-google-request.js';
export { mapGoogleError, parseGoogleErrorBody } from './map-google-error.js';
export { mapGoogleFinishReason } from './map-google-finish-reason.js';
export { GoogleStreamAccumulator } from './google-stream-accumulator.js';
