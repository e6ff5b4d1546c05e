import { z } from 'zod';
import { embeddingToBase64, simulatedEmbedding } from './embedding-generator.js';
import { invalidRequest } from './openai-errors.js';
import { validationError } from './openai-validation-error.js';
import { countTextTokens } from './token-counter.js';

/** Inputs OpenAI accepts in one embeddings request. */
export const MAX_EMBEDDING_INPUTS = 2048;
/** Tokens OpenAI accepts in one input. */
export const MAX_EMBEDDING_INPUT_TOKENS = 8192;
/** Vector length when the request names no `dimensions`: small, to keep responses light. */
export const DEFAULT_EMBEDDING_DIMENSIONS = 8;
/** Largest `dimensions` accepted (text-embedding-3-large's native size). */
export const MAX_EMBEDDING_DIMENSIONS = 3072;

const tokenArraySchema = z.array(z.int().min(0));
export const embeddingsRequestSchema = z.looseObject({
  model: z.string(),
  input: z.union([z.string(), z.array(z.string()), tokenArraySchema, z.array(tokenArraySchema)]),
  dimensions: z.int().min(1).max(MAX_EMBEDDING_DIMENSIONS).nullish(),
  encoding_format: z.enum(['float', 'base64']).nullish(),
});
export type EmbeddingsRequest = z.infer<typeof embeddingsRequestSchema>;

/** One input: its text (token arrays are keyed by their ids) and its real token count. */
interface EmbeddingInput {
  text: string;
  tokens: number;
}

function isTokenArray(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'number');
}

function inputsOf(input: EmbeddingsRequest['input']): EmbeddingInput[] {
  if (typeof input === 'string') return [{ text: input, tokens: countTextTokens(input) }];
  if (isTokenArray(input)) return [{ text: `tokens:${input.join(',')}`, tokens: input.length }];
  return input.map((item) =>
    typeof item === 'string'
      ? { text: item, tokens: countTextTokens(item) }
      : { text: `tokens:${item.join(',')}`, tokens: item.length },
  );
}

const INVALID_INPUT =
  "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.";

/** Validates like OpenAI: non-empty inputs, at most 2048 of them, each within the context length. */
export function parseEmbeddingsRequest(body: unknown): { request: EmbeddingsRequest; inputs: EmbeddingInput[] } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalidRequest('The request body must be a JSON object.');
  }
  const model = (body as { model?: unknown }).model;
  if (typeof model !== 'string' || model === '') throw invalidRequest('you must provide a model parameter');
  const parsed = embeddingsRequestSchema.safeParse(body, { reportInput: true });
  if (!parsed.success) throw validationError(parsed.error);
  const request = parsed.data;
  const inputs = inputsOf(request.input);
  if (inputs.length > MAX_EMBEDDING_INPUTS) {
    throw invalidRequest(
      `Invalid 'input': maximum ${MAX_EMBEDDING_INPUTS} inputs per request, but got ${inputs.length}.`,
      'input',
    );
  }
  if (inputs.length === 0 || inputs.some((input) => input.tokens === 0)) throw invalidRequest(INVALID_INPUT, 'input');
  const longest = Math.max(...inputs.map((input) => input.tokens));
  if (longest > MAX_EMBEDDING_INPUT_TOKENS) {
    throw invalidRequest(
      `This model's maximum context length is ${MAX_EMBEDDING_INPUT_TOKENS} tokens, however you requested ${longest} tokens in your input. Please reduce your input.`,
      'input',
    );
  }
  if (request.dimensions != null && request.model.startsWith('text-embedding-ada')) {
    throw invalidRequest('This model does not support specifying dimensions.', 'dimensions');
  }
  return { request, inputs };
}

/** The CreateEmbeddingResponse body, vectors in input order, float or base64 as requested. */
export function embeddingsBody(request: EmbeddingsRequest, inputs: readonly EmbeddingInput[]) {
  const dimensions = request.dimensions ?? DEFAULT_EMBEDDING_DIMENSIONS;
  const asBase64 = request.encoding_format === 'base64';
  const promptTokens = inputs.reduce((sum, input) => sum + input.tokens, 0);
  return {
    object: 'list',
    data: inputs.map((input, index) => {
      const vector = simulatedEmbedding(request.model, input.text, dimensions);
      return { object: 'embedding', index, embedding: asBase64 ? embeddingToBase64(vector) : vector };
    }),
    model: request.model,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  };
}
