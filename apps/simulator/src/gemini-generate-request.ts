import { z } from 'zod';
import { invalidArgument } from './gemini-errors.js';
import { geminiValidationError, protoPath, requestViolation } from './gemini-validation-error.js';

/**
 * `GenerateContentRequest` as the Gemini API reads it (camelCase JSON, what the SDKs send).
 * Objects are strict where the real API parses into a fixed proto message, so an unknown field
 * is the same 400 "Unknown name" it is there; free-form JSON (schemas, arguments) is open.
 */
const REQUEST = 'GenerateContentRequest';
const jsonObject = z.record(z.string(), z.unknown());

export const partSchema = z.strictObject({
  text: z.string().optional(),
  inlineData: z.strictObject({ mimeType: z.string(), data: z.string() }).optional(),
  fileData: z
    .strictObject({ fileUri: z.string(), mimeType: z.string().optional(), displayName: z.string().optional() })
    .optional(),
  functionCall: z.strictObject({ name: z.string(), args: jsonObject.optional(), id: z.string().optional() }).optional(),
  functionResponse: z
    .strictObject({
      name: z.string(),
      response: jsonObject,
      id: z.string().optional(),
      willContinue: z.boolean().optional(),
      scheduling: z.string().optional(),
    })
    .optional(),
  executableCode: jsonObject.optional(),
  codeExecutionResult: jsonObject.optional(),
  thought: z.boolean().optional(),
  thoughtSignature: z.string().optional(),
  videoMetadata: jsonObject.optional(),
  mediaResolution: z.unknown().optional(),
});
export type GeminiPart = z.infer<typeof partSchema>;

export const contentSchema = z.strictObject({ role: z.string().optional(), parts: z.array(partSchema) });
export type GeminiContent = z.infer<typeof contentSchema>;

const functionDeclarationSchema = z.strictObject({
  name: z.string(),
  description: z.string().optional(),
  parameters: jsonObject.optional(),
  parametersJsonSchema: z.unknown().optional(),
  response: jsonObject.optional(),
  responseJsonSchema: z.unknown().optional(),
  behavior: z.string().optional(),
});
export type GeminiFunctionDeclaration = z.infer<typeof functionDeclarationSchema>;

// Loose: built-in tools (googleSearch, codeExecution, urlContext, ...) are accepted as they come.
const toolSchema = z.looseObject({ functionDeclarations: z.array(functionDeclarationSchema).optional() });

const functionCallingModes = ['MODE_UNSPECIFIED', 'AUTO', 'ANY', 'NONE', 'VALIDATED'] as const;
const toolConfigSchema = z.strictObject({
  functionCallingConfig: z
    .strictObject({
      mode: z.enum(functionCallingModes).optional(),
      allowedFunctionNames: z.array(z.string()).optional(),
      streamFunctionCallArguments: z.boolean().optional(),
    })
    .optional(),
  retrievalConfig: jsonObject.optional(),
});

const generationConfigSchema = z.strictObject({
  temperature: z.number().min(0).max(2).optional(),
  topP: z.number().min(0).max(1).optional(),
  topK: z.int().min(1).optional(),
  candidateCount: z.int().min(1).optional(),
  maxOutputTokens: z.int().min(1).optional(),
  stopSequences: z.array(z.string()).max(5).optional(),
  presencePenalty: z.number().optional(),
  frequencyPenalty: z.number().optional(),
  seed: z.int().optional(),
  responseMimeType: z.string().optional(),
  responseSchema: jsonObject.optional(),
  responseJsonSchema: z.unknown().optional(),
  responseModalities: z.array(z.string()).optional(),
  responseLogprobs: z.boolean().optional(),
  logprobs: z.int().optional(),
  thinkingConfig: jsonObject.optional(),
  mediaResolution: z.string().optional(),
  speechConfig: jsonObject.optional(),
  imageConfig: jsonObject.optional(),
  enableEnhancedCivicAnswers: z.boolean().optional(),
});
export type GeminiGenerationConfig = z.infer<typeof generationConfigSchema>;

export const generateContentRequestSchema = z.strictObject({
  model: z.string().optional(),
  contents: z.array(contentSchema),
  systemInstruction: contentSchema.optional(),
  tools: z.array(toolSchema).optional(),
  toolConfig: toolConfigSchema.optional(),
  generationConfig: generationConfigSchema.optional(),
  safetySettings: z.array(jsonObject).optional(),
  cachedContent: z.string().optional(),
  serviceTier: z.string().optional(),
  store: z.boolean().optional(),
  continuationToken: z.string().optional(),
});
export type GenerateContentRequest = z.infer<typeof generateContentRequestSchema>;

/** MIME types the Gemini API answers in. */
const RESPONSE_MIME_TYPES = ['text/plain', 'application/json', 'text/x.enum'];
const FUNCTION_NAME = /^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$/;
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;
const DATA_FIELDS = [
  'text',
  'inlineData',
  'fileData',
  'functionCall',
  'functionResponse',
  'executableCode',
  'codeExecutionResult',
] as const;

function checkPart(part: GeminiPart, path: Array<string | number>): void {
  const set = DATA_FIELDS.filter((field) => part[field] !== undefined);
  if (set.length === 0) {
    throw requestViolation(REQUEST, [...path, 'data'], "required oneof field 'data' must have one initialized field");
  }
  if (set.length > 1) {
    throw invalidArgument(
      `Invalid JSON payload received. Oneof field 'data' is already set. Cannot set '${set[1] ?? ''}' at '${protoPath(path)}'`,
    );
  }
  const data = part.inlineData?.data;
  if (data !== undefined && (data.length % 4 !== 0 || !BASE64.test(data))) {
    const field = protoPath([...path, 'inlineData', 'data']);
    throw invalidArgument(
      `Invalid value at '${field}' (TYPE_BYTES), Base64 decoding failed for "${data.slice(0, 32)}"`,
    );
  }
}

function checkContent(content: GeminiContent, path: Array<string | number>, allowedRoles: readonly string[]): void {
  if (content.role !== undefined && content.role !== '' && !allowedRoles.includes(content.role)) {
    throw invalidArgument(`Please use a valid role: ${allowedRoles.join(', ')}.`);
  }
  if (content.parts.length === 0)
    throw requestViolation(REQUEST, [...path, 'parts'], 'contents.parts must not be empty.');
  content.parts.forEach((part, index) => checkPart(part, [...path, 'parts', index]));
}

function checkTools(request: GenerateContentRequest): void {
  const names = new Set<string>();
  request.tools?.forEach((tool, toolIndex) => {
    tool.functionDeclarations?.forEach((declaration, index) => {
      const path = ['tools', toolIndex, 'functionDeclarations', index];
      if (!FUNCTION_NAME.test(declaration.name)) {
        throw requestViolation(
          REQUEST,
          [...path, 'name'],
          'Invalid function name. Must start with a letter or an underscore. Must be alphameric (a-z, A-Z, 0-9), underscores (_), dots (.), colons (:), or dashes (-), with a maximum length of 64.',
        );
      }
      if (declaration.parameters !== undefined && declaration.parametersJsonSchema !== undefined) {
        throw requestViolation(
          REQUEST,
          [...path, 'parametersJsonSchema'],
          'parameters and parameters_json_schema are mutually exclusive.',
        );
      }
      names.add(declaration.name);
    });
  });
  const calling = request.toolConfig?.functionCallingConfig;
  const allowed = calling?.allowedFunctionNames ?? [];
  if (allowed.length === 0) return;
  const path = ['toolConfig', 'functionCallingConfig', 'allowedFunctionNames'];
  if (calling?.mode !== 'ANY' && calling?.mode !== 'VALIDATED') {
    throw requestViolation(REQUEST, path, 'allowed_function_names may only be set when mode is ANY or VALIDATED.');
  }
  for (const name of allowed) {
    if (!names.has(name)) throw requestViolation(REQUEST, path, `function "${name}" is not declared in tools.`);
  }
}

function checkGenerationConfig(config: GeminiGenerationConfig | undefined): void {
  if (config === undefined) return;
  const path = ['generationConfig'];
  if ((config.candidateCount ?? 1) !== 1) {
    throw requestViolation(REQUEST, [...path, 'candidateCount'], 'the simulator answers candidate_count 1 only.');
  }
  const mimeType = config.responseMimeType;
  if (mimeType !== undefined && !RESPONSE_MIME_TYPES.includes(mimeType)) {
    throw requestViolation(
      REQUEST,
      [...path, 'responseMimeType'],
      `allowed mimetypes are ${RESPONSE_MIME_TYPES.map((type) => `\`${type}\``).join(', ')}.`,
    );
  }
  if (config.responseSchema !== undefined && config.responseJsonSchema !== undefined) {
    throw requestViolation(
      REQUEST,
      [...path, 'responseSchema'],
      'response_schema and response_json_schema are mutually exclusive.',
    );
  }
  const hasSchema = config.responseSchema !== undefined || config.responseJsonSchema !== undefined;
  if (hasSchema && mimeType !== 'application/json' && mimeType !== 'text/x.enum') {
    throw requestViolation(
      REQUEST,
      [...path, 'responseMimeType'],
      'response_mime_type must be application/json or text/x.enum when a response schema is set.',
    );
  }
}

/** Validates a generateContent body like the Gemini API; throws a `WireError` (400) naming the field. */
export function parseGenerateContentRequest(body: unknown): GenerateContentRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalidArgument('Invalid JSON payload received. Expected an object.');
  }
  const parsed = generateContentRequestSchema.safeParse(body, { reportInput: true });
  if (!parsed.success) throw geminiValidationError(parsed.error, REQUEST);
  const request = parsed.data;
  if (request.contents.length === 0) throw requestViolation(REQUEST, ['contents'], 'contents is not specified');
  request.contents.forEach((content, index) => checkContent(content, ['contents', index], ['user', 'model']));
  if (request.systemInstruction) checkContent(request.systemInstruction, ['systemInstruction'], ['user', 'system']);
  checkTools(request);
  checkGenerationConfig(request.generationConfig);
  return request;
}
