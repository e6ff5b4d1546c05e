import type Anthropic from '@anthropic-ai/sdk';
import type { RequestProblem } from '../../catalog/model-catalog.js';
import { type ChatRequest, type ChatTool, requestedMaxTokens } from '../../jobs/chat-request-schema.js';
import { toAnthropicConversation } from './to-anthropic-messages.js';

/**
 * Name of the forced tool that carries a `json_object` answer: Anthropic's structured output
 * needs a schema, so a schema-free JSON object comes as the input of a tool the model must call.
 */
export const JSON_OBJECT_TOOL_NAME = 'json_object_answer';

export interface AnthropicRequestOptions {
  /** The provider's model id, sent as `model`. */
  modelId: string;
  /** `max_tokens` when the request names no cap; Anthropic requires one. */
  defaultMaxTokens: number;
}

export interface AnthropicTranslation {
  /** The streaming Messages request; never send it while `problems` is non-empty. */
  params: Anthropic.MessageCreateParamsStreaming;
  /** Fields of the request this provider cannot honour. */
  problems: RequestProblem[];
  /** Set when the answer comes as the input of this forced tool (a `json_object` request). */
  jsonObjectTool: string | undefined;
}

const SAMPLING_REMOVED =
  'was removed in Anthropic API version 2026-10-21 (the one @anthropic-ai/sdk 1.x speaks) and is refused, even at its default,';

const UNSUPPORTED_FIELDS = {
  seed: 'is not supported',
  presence_penalty: 'is not supported',
  frequency_penalty: 'is not supported',
} as const;

function toAnthropicTool(tool: ChatTool, index: number, problems: RequestProblem[]): Anthropic.Tool {
  const parameters = tool.function.parameters ?? {};
  if (parameters.type !== undefined && parameters.type !== 'object') {
    problems.push({
      field: `tools[${index}].function.parameters.type`,
      message: 'must be "object" (tool input is always an object), as required',
    });
  }
  const { description, strict } = tool.function;
  return {
    name: tool.function.name,
    ...(description !== undefined ? { description } : {}),
    input_schema: { ...parameters, type: 'object' },
    ...(strict !== undefined && strict !== null ? { strict } : {}),
  };
}

function toAnthropicToolChoice(request: ChatRequest): Anthropic.ToolChoice | undefined {
  const parallel = request.parallel_tool_calls === false ? { disable_parallel_tool_use: true } : {};
  const choice = request.tool_choice;
  if (choice === undefined) return request.parallel_tool_calls === false ? { type: 'auto', ...parallel } : undefined;
  if (choice === 'none') return { type: 'none' };
  if (choice === 'auto') return { type: 'auto', ...parallel };
  if (choice === 'required') return { type: 'any', ...parallel };
  return { type: 'tool', name: choice.function.name, ...parallel };
}

interface OutputSettings {
  tools?: Anthropic.ToolUnion[];
  tool_choice?: Anthropic.ToolChoice;
  output_config?: Anthropic.OutputConfig;
  jsonObjectTool?: string;
}

/** `response_format`, through Anthropic's structured output (json_schema) or a forced tool (json_object). */
function toOutputSettings(request: ChatRequest, problems: RequestProblem[]): OutputSettings {
  const format = request.response_format;
  if (format?.type === 'json_object') {
    if (request.tools !== undefined) {
      problems.push({
        field: 'response_format',
        message:
          'of type json_object cannot be combined with tools (json_object is answered through a forced tool; json_schema can be combined); json_object with tools is not supported',
      });
      return {};
    }
    return {
      tools: [
        {
          name: JSON_OBJECT_TOOL_NAME,
          description: 'Give your whole answer as one JSON object.',
          input_schema: { type: 'object' },
        },
      ],
      tool_choice: { type: 'tool', name: JSON_OBJECT_TOOL_NAME },
      jsonObjectTool: JSON_OBJECT_TOOL_NAME,
    };
  }
  if (format?.type !== 'json_schema') return {};
  const { schema, description } = format.json_schema;
  if (description !== undefined) {
    problems.push({
      field: 'response_format.json_schema.description',
      message: 'must move into the schema\'s own "description"; a separate description is not supported',
    });
  }
  if (schema === undefined) {
    problems.push({
      field: 'response_format.json_schema.schema',
      message: 'must be given; structured output without a schema is not supported',
    });
    return {};
  }
  // `name` only labels the format, and Anthropic always enforces the schema (`strict` or not).
  return { output_config: { format: { type: 'json_schema', schema } } };
}

/**
 * Translates an OpenAI-shaped chat request into an Anthropic streaming Messages request, listing
 * every field it cannot honour instead of dropping it.
 */
export function toAnthropicRequest(request: ChatRequest, options: AnthropicRequestOptions): AnthropicTranslation {
  const problems: RequestProblem[] = [];
  const conversation = toAnthropicConversation(request.messages, problems);
  for (const field of ['temperature', 'top_p'] as const) {
    if (request[field] !== undefined) problems.push({ field, message: SAMPLING_REMOVED });
  }
  for (const [field, message] of Object.entries(UNSUPPORTED_FIELDS)) {
    if (request[field as keyof typeof UNSUPPORTED_FIELDS] !== undefined) problems.push({ field, message });
  }
  const tools = request.tools?.map((tool, index) => toAnthropicTool(tool, index, problems));
  const toolChoice = tools === undefined ? undefined : toAnthropicToolChoice(request);
  const output = toOutputSettings(request, problems);
  const stop = request.stop;
  const allTools = output.tools ?? tools;
  const finalChoice = output.tool_choice ?? toolChoice;
  const params: Anthropic.MessageCreateParamsStreaming = {
    model: options.modelId,
    max_tokens: requestedMaxTokens(request) ?? options.defaultMaxTokens,
    messages: conversation.messages,
    stream: true,
    ...(conversation.system !== undefined ? { system: conversation.system } : {}),
    ...(stop !== undefined ? { stop_sequences: typeof stop === 'string' ? [stop] : stop } : {}),
    ...(request.user !== undefined ? { metadata: { user_id: request.user } } : {}),
    ...(allTools !== undefined ? { tools: allTools } : {}),
    ...(finalChoice !== undefined ? { tool_choice: finalChoice } : {}),
    ...(output.output_config !== undefined ? { output_config: output.output_config } : {}),
  };
  return { params, problems, jsonObjectTool: output.jsonObjectTool };
}
