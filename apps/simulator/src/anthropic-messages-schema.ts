import { z } from 'zod';

/**
 * The `POST /v1/messages` body fields the simulator reads, as Anthropic validates them. Blocks are
 * loose (cache_control, citations and the like pass through); the top level is checked against
 * `KNOWN_TOP_LEVEL_FIELDS`, since the API refuses unknown fields ("Extra inputs are not permitted").
 */

/** Media types Anthropic accepts for base64 images. */
export const ANTHROPIC_IMAGE_MEDIA_TYPES = ['image/jpeg', 'image/png', 'image/gif', 'image/webp'] as const;

export const textBlockSchema = z.looseObject({ type: z.literal('text'), text: z.string() });

const imageSourceSchema = z.discriminatedUnion('type', [
  z.looseObject({
    type: z.literal('base64'),
    media_type: z.enum(ANTHROPIC_IMAGE_MEDIA_TYPES),
    data: z.string().min(1),
  }),
  z.looseObject({ type: z.literal('url'), url: z.url() }),
]);
const imageBlockSchema = z.looseObject({ type: z.literal('image'), source: imageSourceSchema });

const toolUseBlockSchema = z.looseObject({
  type: z.literal('tool_use'),
  id: z.string().min(1),
  name: z.string().min(1),
  input: z.record(z.string(), z.unknown()),
});

const toolResultBlockSchema = z.looseObject({
  type: z.literal('tool_result'),
  tool_use_id: z.string().min(1),
  content: z.union([z.string(), z.array(z.discriminatedUnion('type', [textBlockSchema, imageBlockSchema]))]).optional(),
  is_error: z.boolean().optional(),
});

export const contentBlockSchema = z.discriminatedUnion('type', [
  textBlockSchema,
  imageBlockSchema,
  toolUseBlockSchema,
  toolResultBlockSchema,
]);

const messageSchema = z.looseObject({
  // Mid-conversation `system` messages exist on one model only; the simulator serves the common case.
  role: z.enum(['user', 'assistant']),
  content: z.union([z.string(), z.array(contentBlockSchema)]),
});

const toolSchema = z.looseObject({
  name: z.string().regex(/^[a-zA-Z0-9_-]{1,128}$/, 'String should match pattern ^[a-zA-Z0-9_-]{1,128}$'),
  description: z.string().optional(),
  input_schema: z.looseObject({ type: z.literal('object') }),
  strict: z.boolean().optional(),
});

const parallelOption = { disable_parallel_tool_use: z.boolean().optional() };
const toolChoiceSchema = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('auto'), ...parallelOption }),
  z.looseObject({ type: z.literal('any'), ...parallelOption }),
  z.looseObject({ type: z.literal('tool'), name: z.string(), ...parallelOption }),
  z.looseObject({ type: z.literal('none') }),
]);

const outputConfigSchema = z.looseObject({
  format: z.looseObject({ type: z.literal('json_schema'), schema: z.record(z.string(), z.unknown()) }).nullish(),
  effort: z.enum(['low', 'medium', 'high', 'xhigh', 'max']).nullish(),
});

export const messagesRequestSchema = z.looseObject({
  model: z.string().min(1),
  max_tokens: z.int().min(0),
  messages: z.array(messageSchema).min(1),
  system: z.union([z.string(), z.array(textBlockSchema)]).optional(),
  stop_sequences: z.array(z.string()).optional(),
  stream: z.boolean().optional(),
  tools: z.array(toolSchema).optional(),
  tool_choice: toolChoiceSchema.optional(),
  metadata: z.looseObject({ user_id: z.string().max(256).nullish() }).optional(),
  output_config: outputConfigSchema.optional(),
  // Only on anthropic-version 2023-06-01; 2026-10-21 refuses them before this schema runs.
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  top_k: z.int().min(0).optional(),
});

export type MessagesRequest = z.infer<typeof messagesRequestSchema>;
export type MessagesContentBlock = z.infer<typeof contentBlockSchema>;
export type MessagesToolChoice = z.infer<typeof toolChoiceSchema>;

/** Top-level fields the Messages API knows; any other is refused. */
export const KNOWN_TOP_LEVEL_FIELDS: ReadonlySet<string> = new Set([
  'model',
  'max_tokens',
  'messages',
  'system',
  'stop_sequences',
  'stream',
  'tools',
  'tool_choice',
  'metadata',
  'output_config',
  'thinking',
  'service_tier',
  'container',
  'cache_control',
  'inference_geo',
  'speed',
  'diagnostics',
  'temperature',
  'top_p',
  'top_k',
]);

/** Sampling fields that API version 2026-10-21 removed (a 400 even at their defaults). */
export const REMOVED_SAMPLING_FIELDS = ['temperature', 'top_p', 'top_k'] as const;
