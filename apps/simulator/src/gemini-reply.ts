import { canonicalJson } from './deterministic-random.js';
import {
  type GeminiContent,
  type GeminiGenerationConfig,
  type GenerateContentRequest,
  parseGenerateContentRequest,
} from './gemini-generate-request.js';
import type { SimulatedChatReply } from './openai-chat-request.js';
import {
  generateReply,
  type ReplyMessage,
  type ReplyOutputFormat,
  type ReplyRequest,
  type ReplyTool,
  type ReplyToolChoice,
} from './reply-generator.js';
import { countChatPromptTokens, countTextTokens } from './token-counter.js';

/**
 * Maps a validated Gemini request onto the provider-neutral reply request. Roles become the
 * OpenAI names (model -> assistant, a turn of function responses -> tool, the system
 * instruction -> system) and sampling keys the OpenAI ones, so one conversation gets the same
 * reply and the same prompt count whichever wire format it came through.
 */

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Gemini's OpenAPI-style `Schema` (`type: "OBJECT"`, `nullable`) as the JSON Schema the
 * placeholder generator reads: type names lowercased, everything else as is.
 */
export function openApiSchemaToJsonSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(openApiSchemaToJsonSchema);
  if (!isRecord(schema)) return schema;
  const converted: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'type' && typeof value === 'string') converted.type = value.toLowerCase();
    else if (key === 'properties' && isRecord(value)) {
      converted.properties = Object.fromEntries(
        Object.entries(value).map(([name, property]) => [name, openApiSchemaToJsonSchema(property)]),
      );
    } else if (key === 'items' || key === 'anyOf') converted[key] = openApiSchemaToJsonSchema(value);
    else converted[key] = value;
  }
  return converted;
}

function contentText(content: GeminiContent): string {
  const pieces: string[] = [];
  for (const part of content.parts) {
    if (part.text !== undefined && part.thought !== true) pieces.push(part.text);
    if (part.functionCall) pieces.push(`${part.functionCall.name}(${JSON.stringify(part.functionCall.args ?? {})})`);
    if (part.functionResponse) pieces.push(JSON.stringify(part.functionResponse.response));
  }
  return pieces.join('\n');
}

function replyRole(content: GeminiContent): string {
  if (content.role === 'model') return 'assistant';
  const allResponses = content.parts.every((part) => part.functionResponse !== undefined);
  return allResponses ? 'tool' : 'user';
}

function imageCount(content: GeminiContent): number {
  return content.parts.filter((part) => part.inlineData !== undefined || part.fileData !== undefined).length;
}

function conversation(request: GenerateContentRequest): Array<ReplyMessage & { imageCount: number }> {
  const messages: Array<ReplyMessage & { imageCount: number }> = [];
  const system = request.systemInstruction;
  if (system) messages.push({ role: 'system', text: contentText(system), imageCount: imageCount(system) });
  for (const content of request.contents) {
    messages.push({ role: replyRole(content), text: contentText(content), imageCount: imageCount(content) });
  }
  return messages;
}

function toolsOf(request: GenerateContentRequest): ReplyTool[] {
  return (request.tools ?? []).flatMap((tool) =>
    (tool.functionDeclarations ?? []).map((declaration) => ({
      name: declaration.name,
      parameters: declaration.parametersJsonSchema ?? openApiSchemaToJsonSchema(declaration.parameters),
    })),
  );
}

function toolChoiceOf(request: GenerateContentRequest): ReplyToolChoice {
  const calling = request.toolConfig?.functionCallingConfig;
  if (calling?.mode === 'NONE') return { mode: 'none' };
  if (calling?.mode !== 'ANY') return { mode: 'auto' };
  const first = calling.allowedFunctionNames?.[0];
  return first === undefined ? { mode: 'required' } : { mode: 'function', name: first };
}

function outputFormatOf(config: GeminiGenerationConfig | undefined): ReplyOutputFormat {
  const mimeType = config?.responseMimeType;
  if (mimeType !== 'application/json' && mimeType !== 'text/x.enum') return { kind: 'text' };
  const schema = config?.responseJsonSchema ?? openApiSchemaToJsonSchema(config?.responseSchema);
  return schema === undefined ? { kind: 'json_object' } : { kind: 'json_schema', schema };
}

/** The neutral reply request for a validated Gemini request to `model` (the name in the URL). */
export function toReplyRequest(model: string, request: GenerateContentRequest): ReplyRequest {
  const config = request.generationConfig;
  return {
    model,
    messages: conversation(request).map(({ role, text }) => ({ role, text })),
    sampling: {
      temperature: config?.temperature,
      top_p: config?.topP,
      seed: config?.seed,
      stop: config?.stopSequences,
      presence_penalty: config?.presencePenalty,
      frequency_penalty: config?.frequencyPenalty,
    },
    maxOutputTokens: config?.maxOutputTokens,
    stopSequences: config?.stopSequences ?? [],
    tools: toolsOf(request),
    toolChoice: toolChoiceOf(request),
    outputFormat: outputFormatOf(config),
  };
}

function bareString(json: string): string {
  try {
    const value: unknown = JSON.parse(json);
    return typeof value === 'string' ? value : json;
  } catch {
    return json;
  }
}

/** The reply to an already validated request (the server path: validation ran once). */
export function geminiReplyFor(model: string, request: GenerateContentRequest): SimulatedChatReply {
  const reply = generateReply(toReplyRequest(model, request));
  const tools = request.tools ?? [];
  const promptTokens = countChatPromptTokens(
    conversation(request),
    tools.length > 0 ? canonicalJson(tools) : undefined,
  );
  let { content, completionTokens } = reply;
  if (request.generationConfig?.responseMimeType === 'text/x.enum' && content !== null) {
    // An enum answer is the bare value, not its JSON string.
    content = bareString(content);
    completionTokens = countTextTokens(content);
  }
  return {
    content,
    toolCalls: reply.toolCalls,
    finishReason: reply.finishReason,
    promptTokens,
    completionTokens,
    replyHash: reply.replyHash,
  };
}

/**
 * What the simulator answers to a Gemini generateContent body for `model` (the model named in the
 * URL, without `models/`): a pure function, for tests. Throws a `WireError` if the body is invalid.
 */
export function simulatedGeminiReply(model: string, body: unknown): SimulatedChatReply {
  return geminiReplyFor(model, parseGenerateContentRequest(body));
}
