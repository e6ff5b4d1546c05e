import { z } from 'zod';
import { schemaPatternProblem } from '../providers/json-schema-validator.js';

const textPart = z.strictObject({ type: z.literal('text'), text: z.string() });

const imagePart = z.strictObject({
  type: z.literal('image_url'),
  image_url: z.strictObject({
    url: z.string().refine((url) => url.startsWith('data:image/') || url.startsWith('https://'), {
      message: 'must be a data:image/... URL or an https:// URL',
    }),
    detail: z.enum(['auto', 'low', 'high']).optional(),
  }),
});

const userPart = z.discriminatedUnion('type', [textPart, imagePart], {
  error: 'content part type must be "text" or "image_url"',
});

const textContent = z.union([z.string(), z.array(textPart).min(1)], {
  error: 'must be a string or an array of text parts',
});

const toolCall = z.strictObject({
  id: z.string().min(1),
  type: z.literal('function'),
  function: z.strictObject({ name: z.string().min(1), arguments: z.string() }),
});

const systemMessage = z.strictObject({
  role: z.literal('system'),
  content: textContent,
  name: z.string().optional(),
});
const developerMessage = systemMessage.extend({ role: z.literal('developer') });
const userMessage = z.strictObject({
  role: z.literal('user'),
  content: z.union([z.string(), z.array(userPart).min(1)], {
    error: 'must be a string or a non-empty array of text and image_url parts',
  }),
  name: z.string().optional(),
});
const assistantMessage = z
  .strictObject({
    role: z.literal('assistant'),
    content: textContent.nullable().optional(),
    tool_calls: z.array(toolCall).min(1).optional(),
    name: z.string().optional(),
  })
  .refine((message) => message.content != null || message.tool_calls !== undefined, {
    message: 'an assistant message needs content or tool_calls',
  });
const toolMessage = z.strictObject({
  role: z.literal('tool'),
  content: textContent,
  tool_call_id: z.string().min(1),
});

export const chatMessageSchema = z.discriminatedUnion(
  'role',
  [systemMessage, developerMessage, userMessage, assistantMessage, toolMessage],
  { error: 'role must be one of system, developer, user, assistant, tool' },
);

const functionName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1 to 64 letters, digits, "_" or "-"');

const jsonObject = z.record(z.string(), z.unknown());

export const chatToolSchema = z.strictObject({
  type: z.literal('function'),
  function: z.strictObject({
    name: functionName,
    description: z.string().optional(),
    parameters: jsonObject.optional(),
    strict: z.boolean().nullable().optional(),
  }),
});

const toolChoice = z.union(
  [
    z.enum(['none', 'auto', 'required']),
    z.strictObject({ type: z.literal('function'), function: z.strictObject({ name: functionName }) }),
  ],
  { error: 'must be "none", "auto", "required" or {"type":"function","function":{"name":...}}' },
);

const responseFormat = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ type: z.literal('text') }),
    z.strictObject({ type: z.literal('json_object') }),
    z.strictObject({
      type: z.literal('json_schema'),
      json_schema: z.strictObject({
        name: functionName,
        description: z.string().optional(),
        // Patterns are checked at submit (they must run on RE2), so that schema is a 400 now;
        // the worker compiles the whole schema before its call.
        schema: jsonObject
          .superRefine((schema, context) => {
            const problem = schemaPatternProblem(schema);
            if (problem !== null) context.addIssue({ code: 'custom', message: `cannot be used: ${problem}` });
          })
          .optional(),
        strict: z.boolean().nullable().optional(),
      }),
    }),
  ],
  { error: 'type must be "text", "json_object" or "json_schema"' },
);

const positiveInt = z.number().int().positive();

/** Most messages one chat request may carry: far above real conversations, and validated in about 5 ms. */
export const MAX_CHAT_MESSAGES = 10_000;

/**
 * A chat job's request: an OpenAI Chat Completions request body with `model` as
 * `<provider>/<model>` or an alias. Unknown fields are refused rather than dropped.
 */
export const chatRequestSchema = z
  .strictObject({
    model: z.string().min(1),
    messages: z
      .array(chatMessageSchema)
      .min(1, 'must contain at least one message')
      .max(MAX_CHAT_MESSAGES, `at most ${MAX_CHAT_MESSAGES} messages`),
    temperature: z.number().min(0).max(2).optional(),
    top_p: z.number().min(0).max(1).optional(),
    max_tokens: positiveInt.optional(),
    max_completion_tokens: positiveInt.optional(),
    stop: z.union([z.string(), z.array(z.string()).min(1).max(4)]).optional(),
    seed: z.number().int().optional(),
    presence_penalty: z.number().min(-2).max(2).optional(),
    frequency_penalty: z.number().min(-2).max(2).optional(),
    tools: z.array(chatToolSchema).min(1).max(128).optional(),
    tool_choice: toolChoice.optional(),
    parallel_tool_calls: z.boolean().optional(),
    response_format: responseFormat.optional(),
    user: z.string().max(256).optional(),
    stream: z
      .never({ error: 'is not supported on jobs: follow GET /v1/jobs/{id}/events for partial output' })
      .optional(),
  })
  .refine((request) => request.max_tokens === undefined || request.max_completion_tokens === undefined, {
    message: 'set max_tokens or max_completion_tokens, not both',
    path: ['max_completion_tokens'],
  })
  .refine((request) => request.tool_choice === undefined || request.tools !== undefined, {
    message: 'tool_choice needs tools',
    path: ['tool_choice'],
  });

export type ChatRequest = z.infer<typeof chatRequestSchema>;
export type ChatMessage = z.infer<typeof chatMessageSchema>;
export type ChatTool = z.infer<typeof chatToolSchema>;

/** The output cap a chat request asks for, whichever of the two fields carries it. */
export function requestedMaxTokens(request: ChatRequest): number | undefined {
  return request.max_completion_tokens ?? request.max_tokens;
}
