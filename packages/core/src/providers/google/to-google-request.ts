import {
  type Content,
  type FunctionCallingConfig,
  FunctionCallingConfigMode,
  type FunctionDeclaration,
  type GenerateContentConfig,
} from '@google/genai';
import type { RequestProblem } from '../../catalog/model-catalog.js';
import { type ChatRequest, requestedMaxTokens } from '../../jobs/chat-request-schema.js';
import { toGoogleContents } from './to-google-contents.js';

/** What `models.generateContentStream` takes besides the model. */
export interface GoogleRequest {
  contents: Content[];
  config: GenerateContentConfig;
}

/**
 * The translation of one request. `problems` lists every field Gemini cannot honour; when it is
 * not empty `request` is incomplete and must not be sent. The catalog refuses such jobs at submit
 * time with these same problems (`googleChatRequestProblems`), so the two can never disagree.
 */
export interface GoogleTranslation {
  request: GoogleRequest;
  problems: RequestProblem[];
}

function samplingConfig(request: ChatRequest): GenerateContentConfig {
  const maxOutputTokens = requestedMaxTokens(request);
  const stop = request.stop;
  return {
    ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
    ...(request.top_p !== undefined ? { topP: request.top_p } : {}),
    ...(maxOutputTokens !== undefined ? { maxOutputTokens } : {}),
    ...(stop !== undefined ? { stopSequences: typeof stop === 'string' ? [stop] : stop } : {}),
    ...(request.seed !== undefined ? { seed: request.seed } : {}),
    ...(request.presence_penalty !== undefined ? { presencePenalty: request.presence_penalty } : {}),
    ...(request.frequency_penalty !== undefined ? { frequencyPenalty: request.frequency_penalty } : {}),
  };
}

function functionCallingConfig(
  request: ChatRequest,
  names: readonly string[],
  problems: RequestProblem[],
): FunctionCallingConfig | undefined {
  const choice = request.tool_choice;
  if (choice === 'none') return { mode: FunctionCallingConfigMode.NONE };
  // ANY guarantees arguments that follow the declared schema, which is what `strict` asks for.
  if (choice === 'required') return { mode: FunctionCallingConfigMode.ANY };
  if (typeof choice === 'object') {
    if (!names.includes(choice.function.name)) {
      problems.push({ field: 'tool_choice.function.name', message: 'names no function in tools' });
    }
    return { mode: FunctionCallingConfigMode.ANY, allowedFunctionNames: [choice.function.name] };
  }
  request.tools?.forEach((tool, index) => {
    if (tool.function.strict !== true) return;
    problems.push({
      field: `tools[${index}].function.strict`,
      message:
        'is not supported with tool_choice "auto": Gemini guarantees schema-exact arguments only when a call is required (tool_choice "required" or a named function)',
    });
  });
  return choice === 'auto' ? { mode: FunctionCallingConfigMode.AUTO } : undefined;
}

function toolsConfig(request: ChatRequest, problems: RequestProblem[]): GenerateContentConfig {
  if (request.tools === undefined) return {};
  const declarations: FunctionDeclaration[] = request.tools.map(({ function: tool }) => ({
    name: tool.name,
    ...(tool.description !== undefined ? { description: tool.description } : {}),
    ...(tool.parameters !== undefined ? { parametersJsonSchema: tool.parameters } : {}),
  }));
  const calling = functionCallingConfig(
    request,
    declarations.map((declaration) => declaration.name ?? ''),
    problems,
  );
  return {
    tools: [{ functionDeclarations: declarations }],
    ...(calling ? { toolConfig: { functionCallingConfig: calling } } : {}),
  };
}

function responseFormatConfig(request: ChatRequest, problems: RequestProblem[]): GenerateContentConfig {
  const format = request.response_format;
  if (format === undefined || format.type === 'text') return {};
  if (format.type === 'json_object') return { responseMimeType: 'application/json' };
  const { name, description, schema } = format.json_schema;
  if (schema === undefined) {
    if (description !== undefined) {
      problems.push({
        field: 'response_format.json_schema.description',
        message: 'is not supported without a schema: Gemini reads descriptions from the schema',
      });
    }
    return { responseMimeType: 'application/json' };
  }
  // Gemini's structured output always holds to the schema, so `strict` needs no mapping; the
  // name and description travel as the schema's own `title` and `description`.
  const jsonSchema: Record<string, unknown> = { title: name, ...schema };
  if (description !== undefined) {
    if (schema.description === undefined) jsonSchema.description = description;
    else if (schema.description !== description) {
      problems.push({
        field: 'response_format.json_schema.description',
        message: "conflicts with the schema's own description: Gemini takes one",
      });
    }
  }
  return { responseMimeType: 'application/json', responseJsonSchema: jsonSchema };
}

/** Translates an OpenAI-shaped chat request into Gemini's `contents` and `config`. */
export function toGoogleRequest(request: ChatRequest): GoogleTranslation {
  const problems: RequestProblem[] = [];
  const { systemInstruction, contents } = toGoogleContents(request.messages, problems);
  const config: GenerateContentConfig = {
    ...(systemInstruction ? { systemInstruction } : {}),
    ...samplingConfig(request),
    ...toolsConfig(request, problems),
    ...responseFormatConfig(request, problems),
  };
  if (request.parallel_tool_calls === false) {
    problems.push({
      field: 'parallel_tool_calls',
      message: 'cannot be false: Gemini may always answer with several function calls at once',
    });
  }
  if (request.user !== undefined) {
    problems.push({ field: 'user', message: 'is not supported: Gemini takes no end-user identifier' });
  }
  return { request: { contents, config }, problems };
}
