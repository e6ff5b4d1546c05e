/**
 * @llmq/simulator: a local HTTP server speaking the real OpenAI wire format, with deterministic
 * replies, real token counts, fault injection, strict sliding-window rate limits and statistics.
 * Point the official SDK at it with `baseURL: `${url}/v1``.
 */
export { createSimulator, type Simulator } from './server.js';
export type { SimulatorControl } from './control-routes.js';
export type { SettingsUpdate, SettingsView, SimulatorOptions } from './simulator-options.js';
export { simulatedChatReply, type SimulatedChatReply } from './openai-chat-request.js';
export { simulatedEmbedding, embeddingToBase64 } from './embedding-generator.js';
export { DEFAULT_EMBEDDING_DIMENSIONS, MAX_EMBEDDING_INPUTS } from './openai-embeddings.js';
export {
  countChatPromptTokens,
  countTextTokens,
  TOKENS_FOR_REPLY_PRIMING,
  TOKENS_PER_MESSAGE,
  type CountableMessage,
} from './token-counter.js';
export { generateReply, type GeneratedReply, type ReplyRequest, type SimulatedToolCall } from './reply-generator.js';
export {
  DEFAULT_TIMEOUT_THEN_OK_DELAY_MS,
  FAULT_KINDS,
  type FaultKind,
  type FaultRule,
  type FaultRuleStatus,
} from './fault-rules.js';
export { GLOBAL_LIMIT_KEY, orgWindowKey, type RateLimit, type RateLimits, type WindowStats } from './rate-limiter.js';
export { accountListSchema, type Account, type AccountStats } from './accounts.js';
export {
  MAX_CACHED_PREFIXES_PER_KEY,
  PROMPT_CACHE_BLOCK_TOKENS,
  PROMPT_CACHE_MIN_TOKENS,
  PROMPT_CACHE_TTL_MS,
} from './prompt-cache.js';
export { formatResetDuration } from './rate-limit-headers.js';
export { RATE_WINDOW_MS } from './rate-window.js';
export type { RequestLogEntry, SimulatorStats } from './stats.js';
export type { ProviderEndpoint, PreparedCall, SimulatedFailure, WireFormat } from './provider-endpoint.js';
export { WireError } from './wire-error.js';
export { anthropicEndpoints, anthropicWire } from './anthropic-routes.js';
export {
  simulatedAnthropicReply,
  type AnthropicStopReason,
  type SimulatedAnthropicReply,
  type SimulatedContentBlock,
} from './anthropic-messages-reply.js';
export { ANTHROPIC_VERSIONS, LATEST_ANTHROPIC_VERSION, type AnthropicVersion } from './anthropic-messages-request.js';
export { geminiEndpoints, geminiWire } from './gemini-routes.js';
export { simulatedGeminiReply } from './gemini-reply.js';
export { MAX_GEMINI_BATCH_EMBED_REQUESTS, MAX_GEMINI_EMBEDDING_DIMENSIONS } from './gemini-embeddings.js';
export { BATCH_PROVIDERS, type BatchProvider, type BatchProviderStats } from './batch-stats.js';
export { DEFAULT_MAX_BATCHES } from './batch-store.js';
export { DEFAULT_BATCH_EXPIRY_MS, DEFAULT_BATCH_PROCESSING_MS } from './simulator-options.js';
export { MAX_OPENAI_BATCH_FILE_BYTES, MAX_OPENAI_BATCH_REQUESTS } from './openai-batch-input.js';
export { MAX_ANTHROPIC_BATCH_BYTES, MAX_ANTHROPIC_BATCH_REQUESTS } from './anthropic-batch-routes.js';
export { MAX_GEMINI_INLINE_BATCH_BYTES } from './gemini-batch-routes.js';
