import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { requestedMaxTokens, type ChatMessage, type ChatRequest } from '../jobs/chat-request-schema.js';

// Bumped whenever normalisation changes, so old entries are never read with a new meaning.
const DIGEST_VERSION = 1;

/** SHA-256 (hex) of a value's RFC 8785 canonical JSON: key order and number spelling never matter. */
export function canonicalDigest(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError('the value has no JSON form');
  return createHash('sha256').update(text).digest('hex');
}

type Content = ChatMessage['content'];

// `[{"type":"text","text":"x"}]` and `"x"` mean the same to every provider.
function normaliseContent(content: Content): Content {
  if (Array.isArray(content) && content.length === 1) {
    const [part] = content;
    if (part?.type === 'text') return part.text;
  }
  return content;
}

function normaliseMessage(message: ChatMessage): ChatMessage {
  return { ...message, content: normaliseContent(message.content) } as ChatMessage;
}

/**
 * What decides a chat answer besides the messages: the sampling parameters, tools and output
 * format, with equivalent spellings made equal (`max_tokens` / `max_completion_tokens`, a
 * single `stop` string / a list of one, `tool_choice` unset / `"auto"` with tools, zero
 * penalties / none). `user` is left out: it labels the caller and does not change the answer.
 */
function chatParameters(request: ChatRequest): Record<string, unknown> {
  const zeroIsDefault = (value: number | undefined) => (value === 0 ? undefined : value);
  return {
    temperature: request.temperature,
    top_p: request.top_p,
    max_output_tokens: requestedMaxTokens(request),
    stop: typeof request.stop === 'string' ? [request.stop] : request.stop,
    seed: request.seed,
    presence_penalty: zeroIsDefault(request.presence_penalty),
    frequency_penalty: zeroIsDefault(request.frequency_penalty),
    tools: request.tools,
    tool_choice: request.tool_choice ?? (request.tools ? 'auto' : undefined),
    parallel_tool_calls: request.parallel_tool_calls,
    response_format: request.response_format?.type === 'text' ? undefined : request.response_format,
  };
}

/** The exact-cache digest of a chat request sent to a concrete `provider/model`. */
export function chatRequestDigest(request: ChatRequest, model: string): string {
  return canonicalDigest({
    v: DIGEST_VERSION,
    type: 'chat',
    model,
    parameters: chatParameters(request),
    messages: request.messages.map(normaliseMessage),
  });
}

const isInstruction = (message: ChatMessage) => message.role === 'system' || message.role === 'developer';

/**
 * The semantic-cache scope of a chat request: the model, the parameters and the system and
 * developer messages must all be equal before two prompts are compared by meaning.
 */
export function semanticScopeDigest(request: ChatRequest, model: string): string {
  return canonicalDigest({
    v: DIGEST_VERSION,
    type: 'semantic-scope',
    model,
    parameters: chatParameters(request),
    instructions: request.messages.filter(isInstruction).map(normaliseMessage),
  });
}

function contentText(content: Content): string | null {
  if (content === null || content === undefined) return '';
  if (typeof content === 'string') return content;
  let text = '';
  for (const part of content) {
    if (part.type !== 'text') return null;
    text += part.text;
  }
  return text;
}

/**
 * The text embedded for a semantic lookup: the conversation without its instructions, one
 * `role: text` line per message (tool calls as `name(arguments)`). Null when a message holds an
 * image, which a text embedding cannot compare.
 */
export function semanticPromptText(request: ChatRequest): string | null {
  const lines: string[] = [];
  for (const message of request.messages) {
    if (isInstruction(message)) continue;
    const text = contentText(message.content);
    if (text === null) return null;
    const calls =
      message.role === 'assistant'
        ? (message.tool_calls ?? []).map((call) => ` ${call.function.name}(${call.function.arguments})`).join('')
        : '';
    lines.push(`${message.role}: ${text.trim()}${calls}`);
  }
  return lines.join('\n');
}

/** The per-input digest of an embedding: the same text, model and dimensions give the same vector. */
export function embeddingInputDigest(input: string, model: string, dimensions: number | undefined): string {
  return canonicalDigest({ v: DIGEST_VERSION, type: 'embedding', model, dimensions: dimensions ?? null, input });
}
