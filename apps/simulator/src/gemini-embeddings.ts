import { z } from 'zod';
import { simulatedEmbedding } from './embedding-generator.js';
import { invalidArgument } from './gemini-errors.js';
import { contentSchema, type GeminiContent } from './gemini-generate-request.js';
import { geminiValidationError, requestViolation } from './gemini-validation-error.js';
import { DEFAULT_EMBEDDING_DIMENSIONS } from './openai-embeddings.js';
import { countTextTokens } from './token-counter.js';

/** Requests one `batchEmbedContents` call accepts, as on the Gemini API. */
export const MAX_GEMINI_BATCH_EMBED_REQUESTS = 100;
/** Largest `outputDimensionality` (gemini-embedding-001's native size). */
export const MAX_GEMINI_EMBEDDING_DIMENSIONS = 3072;

const TASK_TYPES = [
  'TASK_TYPE_UNSPECIFIED',
  'RETRIEVAL_QUERY',
  'RETRIEVAL_DOCUMENT',
  'SEMANTIC_SIMILARITY',
  'CLASSIFICATION',
  'CLUSTERING',
  'QUESTION_ANSWERING',
  'FACT_VERIFICATION',
  'CODE_RETRIEVAL_QUERY',
] as const;

const embedContentRequestSchema = z.strictObject({
  model: z.string().optional(),
  content: contentSchema,
  taskType: z.enum(TASK_TYPES).optional(),
  title: z.string().optional(),
  outputDimensionality: z.int().min(1).max(MAX_GEMINI_EMBEDDING_DIMENSIONS).optional(),
});
type EmbedContentRequest = z.infer<typeof embedContentRequestSchema>;

const batchEmbedContentsRequestSchema = z.strictObject({ requests: z.array(embedContentRequestSchema) });

/** One input to embed: its text, vector length and real token count. */
export interface GeminiEmbeddingInput {
  text: string;
  dimensions: number;
  tokens: number;
}

function inputOf(
  request: EmbedContentRequest,
  path: Array<string | number>,
  requestName: string,
  model: string,
): GeminiEmbeddingInput {
  if (request.model !== undefined && request.model !== `models/${model}`) {
    throw requestViolation(requestName, [...path, 'model'], `must match the model in the URL ("models/${model}").`);
  }
  const content: GeminiContent = request.content;
  if (content.parts.length === 0) {
    throw requestViolation(requestName, [...path, 'content', 'parts'], 'contents.parts must not be empty.');
  }
  const texts: string[] = [];
  content.parts.forEach((part, index) => {
    if (part.text === undefined) {
      throw requestViolation(
        requestName,
        [...path, 'content', 'parts', index],
        'the simulator embeds text parts only.',
      );
    }
    texts.push(part.text);
  });
  const text = texts.join('\n');
  if (text.trim() === '') {
    throw requestViolation(requestName, [...path, 'content'], 'content must contain non-empty text.');
  }
  return {
    text,
    dimensions: request.outputDimensionality ?? DEFAULT_EMBEDDING_DIMENSIONS,
    tokens: countTextTokens(text),
  };
}

function asObject(body: unknown): object {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalidArgument('Invalid JSON payload received. Expected an object.');
  }
  return body;
}

/** Validates a `batchEmbedContents` body for `model` (from the URL) like the Gemini API. */
export function parseBatchEmbedContents(body: unknown, model: string): GeminiEmbeddingInput[] {
  const name = 'BatchEmbedContentsRequest';
  const parsed = batchEmbedContentsRequestSchema.safeParse(asObject(body), { reportInput: true });
  if (!parsed.success) throw geminiValidationError(parsed.error, name);
  const { requests } = parsed.data;
  if (requests.length === 0) throw requestViolation(name, ['requests'], 'requests is not specified');
  if (requests.length > MAX_GEMINI_BATCH_EMBED_REQUESTS) {
    throw requestViolation(
      name,
      ['requests'],
      `at most ${MAX_GEMINI_BATCH_EMBED_REQUESTS} requests can be in one batch`,
    );
  }
  return requests.map((request, index) => {
    if (request.model === undefined) {
      throw requestViolation(name, ['requests', index, 'model'], 'model is not specified');
    }
    return inputOf(request, ['requests', index], name, model);
  });
}

/** Validates an `embedContent` body for `model` (from the URL). */
export function parseEmbedContent(body: unknown, model: string): GeminiEmbeddingInput {
  const name = 'EmbedContentRequest';
  const parsed = embedContentRequestSchema.safeParse(asObject(body), { reportInput: true });
  if (!parsed.success) throw geminiValidationError(parsed.error, name);
  return inputOf(parsed.data, [], name, model);
}

function vectorOf(model: string, input: GeminiEmbeddingInput): { values: number[] } {
  return { values: simulatedEmbedding(model, input.text, input.dimensions) };
}

/** `BatchEmbedContentsResponse`: vectors in request order; the API reports no token usage. */
export function batchEmbedContentsBody(model: string, inputs: readonly GeminiEmbeddingInput[]) {
  return { embeddings: inputs.map((input) => vectorOf(model, input)) };
}

/** `EmbedContentResponse`. */
export function embedContentBody(model: string, input: GeminiEmbeddingInput) {
  return { embedding: vectorOf(model, input) };
}
