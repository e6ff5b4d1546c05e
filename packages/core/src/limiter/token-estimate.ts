import { resolveModel, type ModelCatalog, type ProviderKind } from '../catalog/model-catalog.js';
import { requestedMaxTokens, type ChatRequest } from '../jobs/chat-request-schema.js';
import { embeddingInputs, type EmbeddingRequest } from '../jobs/embedding-request-schema.js';
import type { JobSubmission } from '../jobs/job-submission-schema.js';
import { TokenMeter } from '@llmq/tokenizer';

// OpenAI's chat framing: 3 tokens around each message and 3 priming the reply (the cookbook's count).
const TOKENS_PER_MESSAGE = 3;
const TOKENS_FOR_REPLY = 3;
/** An image, whatever its size: OpenAI's low-detail price. High-detail images cost more; usage settles it. */
const TOKENS_PER_IMAGE = 85;
/** Other providers' tokenizers are not public: about four characters a token, rounded up. */
const CHARACTERS_PER_TOKEN = 4;

// Counting is linear in the input and pauses for the event loop (see TokenMeter): a 4 MiB prompt
// of one repeated character costs about what prose of the same size does, and blocks nobody.
async function textTokens(text: string, kind: ProviderKind, meter: TokenMeter): Promise<number> {
  if (text === '') return 0;
  if (kind === 'openai' || kind === 'openai-compatible') return meter.countText(text);
  return Math.ceil(text.length / CHARACTERS_PER_TOKEN);
}

function messageText(message: ChatRequest['messages'][number]): { text: string; images: number } {
  let text = message.role;
  let images = 0;
  const content = message.content;
  if (typeof content === 'string') text += content;
  else if (Array.isArray(content)) {
    for (const part of content) {
      if (part.type === 'text') text += part.text;
      else images += 1;
    }
  }
  if (message.role === 'assistant') {
    for (const call of message.tool_calls ?? []) text += call.function.name + call.function.arguments;
  }
  return { text, images };
}

/**
 * Tokens to reserve for a chat call: the prompt (see `estimatePromptTokens`) plus the most the
 * answer may use (`max_tokens`, or `defaultOutputTokens` when unset).
 */
export async function estimateChatTokens(
  request: ChatRequest,
  kind: ProviderKind,
  defaultOutputTokens: number,
): Promise<number> {
  return (await estimatePromptTokens(request, kind)) + (requestedMaxTokens(request) ?? defaultOutputTokens);
}

/**
 * A chat call's prompt tokens: counted with o200k_base for OpenAI and OpenAI-compatible models,
 * about 4 characters a token for other providers, with OpenAI's framing per message.
 */
export async function estimatePromptTokens(request: ChatRequest, kind: ProviderKind): Promise<number> {
  const meter = new TokenMeter();
  let prompt = TOKENS_FOR_REPLY;
  for (const message of request.messages) {
    const { text, images } = messageText(message);
    prompt += TOKENS_PER_MESSAGE + (await textTokens(text, kind, meter)) + images * TOKENS_PER_IMAGE;
  }
  if (request.tools) prompt += await textTokens(JSON.stringify(request.tools), kind, meter);
  if (request.response_format?.type === 'json_schema')
    prompt += await textTokens(JSON.stringify(request.response_format), kind, meter);
  return prompt;
}

/** Tokens an embedding call will use: its inputs, counted as for chat. */
export async function estimateEmbeddingTokens(request: EmbeddingRequest, kind: ProviderKind): Promise<number> {
  const meter = new TokenMeter();
  let tokens = 0;
  for (const input of embeddingInputs(request)) tokens += await textTokens(input, kind, meter);
  return tokens;
}

/** The reservation of a job's first model: what the API puts in the BullMQ job for the limiter. */
export function estimateJobTokens(
  submission: JobSubmission,
  catalog: ModelCatalog,
  defaultOutputTokens: number,
  anthropicDefault = 4096,
): Promise<number> {
  const resolution = resolveModel(catalog, submission.request.model);
  const provider = resolution.ok ? resolution.chain[0]?.provider : undefined;
  const kind = (provider && catalog.providers.get(provider)?.kind) || 'openai';
  // Anthropic requires max_tokens: the adapter sends its default, so that is what may be used.
  const outputDefault = kind === 'anthropic' ? Math.max(defaultOutputTokens, anthropicDefault) : defaultOutputTokens;
  return submission.type === 'chat'
    ? estimateChatTokens(submission.request, kind, outputDefault)
    : estimateEmbeddingTokens(submission.request, kind);
}
