import { z } from 'zod';
import { canonicalJson } from './deterministic-random.js';
import { invalidRequest } from './openai-errors.js';
import { validationError } from './openai-validation-error.js';
import {
  generateReply,
  type ReplyFinishReason,
  type ReplyOutputFormat,
  type ReplyRequest,
  type ReplyToolChoice,
  type SimulatedToolCall,
} from './reply-generator.js';
import { countChatPromptTokens, type CountableMessage } from './token-counter.js';

/** Only the fields the simulator reads are named; any other field passes through untouched. */
const contentPartSchema = z.looseObject({ type: z.string(), text: z.string().optional() });
const messageToolCallSchema = z.looseObject({
  id: z.string(),
  type: z.string(),
  function: z.looseObject({ name: z.string(), arguments: z.string() }).optional(),
});
const messageSchema = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function']),
  content: z.union([z.string(), z.array(contentPartSchema), z.null()]).optional(),
  name: z.string().optional(),
  tool_calls: z.array(messageToolCallSchema).nullish(),
});
const toolSchema = z.looseObject({
  type: z.string(),
  function: z
    .looseObject({ name: z.string().min(1), parameters: z.record(z.string(), z.unknown()).nullish() })
    .optional(),
});
const toolChoiceSchema = z.union([
  z.enum(['none', 'auto', 'required']),
  z.looseObject({ type: z.literal('function'), function: z.looseObject({ name: z.string() }) }),
]);
const responseFormatSchema = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('text') }),
  z.looseObject({ type: z.literal('json_object') }),
  z.looseObject({
    type: z.literal('json_schema'),
    json_schema: z.looseObject({ name: z.string(), schema: z.record(z.string(), z.unknown()).optional() }),
  }),
]);
const penaltySchema = z.number().min(-2).max(2).nullish();

export const chatRequestSchema = z.looseObject({
  model: z.string(),
  messages: z.array(messageSchema).min(1),
  max_tokens: z.int().min(1).nullish(),
  max_completion_tokens: z.int().min(1).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  seed: z.int().nullish(),
  stop: z.union([z.string(), z.array(z.string()).max(4)]).nullish(),
  presence_penalty: penaltySchema,
  frequency_penalty: penaltySchema,
  n: z.int().min(1).nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().nullish() }).nullish(),
  tools: z.array(toolSchema).nullish(),
  tool_choice: toolChoiceSchema.nullish(),
  response_format: responseFormatSchema.nullish(),
});

export type ChatRequest = z.infer<typeof chatRequestSchema>;
type ChatMessage = z.infer<typeof messageSchema>;

/** What the simulator answers to a chat request; `simulatedChatReply` and the server agree on it. */
export interface SimulatedChatReply {
  /** Text of the reply; null when it is a tool call. */
  content: string | null;
  toolCalls: SimulatedToolCall[];
  finishReason: ReplyFinishReason;
  /** See `countChatPromptTokens` for the formula. */
  promptTokens: number;
  completionTokens: number;
  /** Seed of the reply; the completion id is derived from it. */
  replyHash: string;
}

/** Validates a chat body like OpenAI does; throws a `WireError` (400) naming the bad field. */
export function parseChatRequest(body: unknown): ChatRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalidRequest('The request body must be a JSON object.');
  }
  const model = (body as { model?: unknown }).model;
  if (typeof model !== 'string' || model === '') throw invalidRequest('you must provide a model parameter');
  const parsed = chatRequestSchema.safeParse(body, { reportInput: true });
  if (!parsed.success) throw validationError(parsed.error);
  const request = parsed.data;
  if ((request.n ?? 1) !== 1) throw invalidRequest("Invalid 'n': the simulator answers n=1 only.", 'n');
  const toolNames = (request.tools ?? []).flatMap((tool) => (tool.function ? [tool.function.name] : []));
  const choice = request.tool_choice;
  if (choice !== undefined && choice !== null && (request.tools ?? []).length === 0) {
    throw invalidRequest(
      "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
      'tool_choice',
    );
  }
  if (typeof choice === 'object' && choice !== null && !toolNames.includes(choice.function.name)) {
    throw invalidRequest(
      `Invalid value for 'tool_choice': function '${choice.function.name}' is not among the tools.`,
      'tool_choice',
    );
  }
  if (request.response_format?.type === 'json_object' && !request.messages.some(mentionsJson)) {
    throw invalidRequest(
      "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.",
      'messages',
    );
  }
  return request;
}

function messageText(message: ChatMessage): string {
  const content = message.content;
  const parts =
    typeof content === 'string'
      ? [content]
      : (content ?? []).flatMap((part) => (part.type === 'text' && part.text !== undefined ? [part.text] : []));
  for (const call of message.tool_calls ?? []) {
    if (call.function) parts.push(`${call.function.name}(${call.function.arguments})`);
  }
  return parts.join('\n');
}

function mentionsJson(message: ChatMessage): boolean {
  return /json/i.test(messageText(message));
}

function countableMessage(message: ChatMessage): CountableMessage {
  const content = message.content;
  const imageCount = Array.isArray(content) ? content.filter((part) => part.type === 'image_url').length : 0;
  return { role: message.role, text: messageText(message), name: message.name, imageCount };
}

function toolChoiceOf(choice: ChatRequest['tool_choice']): ReplyToolChoice {
  if (choice === undefined || choice === null || choice === 'auto') return { mode: 'auto' };
  if (choice === 'none' || choice === 'required') return { mode: choice };
  return { mode: 'function', name: choice.function.name };
}

function outputFormatOf(format: ChatRequest['response_format']): ReplyOutputFormat {
  if (format?.type === 'json_object') return { kind: 'json_object' };
  if (format?.type === 'json_schema') return { kind: 'json_schema', schema: format.json_schema.schema };
  return { kind: 'text' };
}

/** Maps a validated OpenAI chat request onto the provider-neutral reply request. */
export function toReplyRequest(request: ChatRequest): ReplyRequest {
  const stop = request.stop ?? undefined;
  return {
    model: request.model,
    messages: request.messages.map((message) => ({ role: message.role, text: messageText(message) })),
    // null and absent mean the same to OpenAI, so both must give the same seed.
    sampling: {
      temperature: request.temperature ?? undefined,
      top_p: request.top_p ?? undefined,
      seed: request.seed ?? undefined,
      stop,
      presence_penalty: request.presence_penalty ?? undefined,
      frequency_penalty: request.frequency_penalty ?? undefined,
    },
    maxOutputTokens: request.max_completion_tokens ?? request.max_tokens ?? undefined,
    stopSequences: stop === undefined ? [] : typeof stop === 'string' ? [stop] : stop,
    tools: (request.tools ?? []).flatMap((tool) =>
      tool.type === 'function' && tool.function
        ? [{ name: tool.function.name, parameters: tool.function.parameters ?? undefined }]
        : [],
    ),
    toolChoice: toolChoiceOf(request.tool_choice),
    outputFormat: outputFormatOf(request.response_format),
  };
}

/** The reply to an already validated request (the server path: validation ran once). */
export function chatReplyFor(request: ChatRequest): SimulatedChatReply {
  const reply = generateReply(toReplyRequest(request));
  const tools = request.tools ?? [];
  const promptTokens = countChatPromptTokens(
    request.messages.map(countableMessage),
    tools.length > 0 ? canonicalJson(tools) : undefined,
  );
  return {
    content: reply.content,
    toolCalls: reply.toolCalls,
    finishReason: reply.finishReason,
    promptTokens,
    completionTokens: reply.completionTokens,
    replyHash: reply.replyHash,
  };
}

/**
 * What the simulator answers to an OpenAI chat-completions body: a pure function of the model,
 * messages, sampling fields, tools, response format and token cap. Accepts any body the SDK would
 * send (typed `unknown` so SDK param objects pass without casts); throws a `WireError` if invalid.
 */
export function simulatedChatReply(request: unknown): SimulatedChatReply {
  return chatReplyFor(parseChatRequest(request));
}
