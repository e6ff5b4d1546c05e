export * from './catalog/model-catalog.js';
export * from './catalog/provider-setup.js';
export * from './config/llmq-config-schema.js';
export * from './batching/batching-config-schema.js';
export * from './jobs/chat-request-schema.js';
export * from './jobs/embedding-request-schema.js';
export * from './jobs/format-validation-error.js';
export * from './jobs/job-id.js';
export * from './jobs/job-object.js';
export * from './jobs/job-submission-schema.js';
export * from './logging/logger.js';
export * from './models/model-name.js';
export * from './providers/chat-completion.js';
export * from './providers/openai/openai-provider.js';
export { OpenAIEmbeddingModel, type OpenAIEmbeddingModelOptions } from './providers/openai/openai-embedding-model.js';
export { OpenAIStreamAccumulator } from './providers/openai/openai-stream-accumulator.js';
export { mapOpenAIError } from './providers/openai/map-openai-error.js';
export { openAIEmbeddingResponseSchema } from './providers/openai/openai-response-schema.js';
export {
  createAnthropicProvider,
  anthropicChatRequestProblems,
  ANTHROPIC_DEFAULT_BASE_URL,
  ANTHROPIC_DEFAULT_MAX_TOKENS,
  AnthropicStreamAccumulator,
  JSON_OBJECT_TOOL_NAME,
  mapAnthropicError,
  toAnthropicRequest,
} from './providers/anthropic/index.js';
export {
  createGoogleClient,
  createGoogleProvider,
  googleChatRequestProblems,
  GEMINI_MAX_EMBEDDINGS_PER_CALL,
  GoogleStreamAccumulator,
  mapGoogleError,
  toGoogleRequest,
  type GoogleRequest,
} from './providers/google/index.js';
export * from './providers/call-guard.js';
export * from './providers/structured-output.js';
export { jsonSchemaProblem, SCHEMA_WORK_LIMIT_MS } from './providers/json-schema-validator.js';
export * from './providers/parse-retry-after.js';
export * from './providers/provider-error.js';
export * from './providers/provider.js';
export * from './queue/llm-queue.js';
export * from './store/job-keys.js';
export * from './store/job-store.js';
export * from './store/job-lifecycle.js';
export * from './store/job-record-fields.js';
export * from './store/job-end-notice.js';
export * from './store/partial-output.js';
export * from './limiter/limit-rules.js';
export * from './limiter/rate-limiter.js';
export * from './limiter/parked-reservation.js';
export * from './limiter/token-estimate.js';
export { warmUpTokenizer } from '@llmq/tokenizer';
export * from './limiter/parse-rate-limit-headers.js';
export * from './retry/retry-policy.js';
export * from './retry/attempt-budget.js';
export * from './circuit/circuit-breaker.js';
export * from './webhooks/index.js';
export * from './idempotency/canonical-body-hash.js';
export * from './idempotency/idempotency-keys.js';
export * from './redis-checks/redis-server-checks.js';
export * from './redis-checks/redis-unavailable.js';
export * from './cache/index.js';
export * from './cost/index.js';
export * from './budget/index.js';
export * from './tracing/index.js';
export * from './accounts/index.js';
export * from './redis/redis-connection.js';
