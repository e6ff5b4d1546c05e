import { z } from 'zod';

/** Inputs one embedding job may carry; the worker splits them into provider-sized calls. */
export const MAX_EMBEDDING_INPUTS = 10_000;

/** An embedding job's request: an OpenAI Embeddings request body with `model` as `<provider>/<model>`. */
export const embeddingRequestSchema = z.strictObject({
  model: z.string().min(1),
  input: z.union(
    [
      z.string().min(1, 'must not be empty'),
      z
        .array(z.string().min(1, 'must not be empty'))
        .min(1, 'must contain at least one string')
        .max(MAX_EMBEDDING_INPUTS),
    ],
    { error: 'must be a non-empty string or an array of non-empty strings' },
  ),
  dimensions: z.number().int().positive().max(65_536).optional(),
  encoding_format: z.literal('float', { error: 'only "float" is supported' }).optional(),
  user: z.string().max(256).optional(),
});

export type EmbeddingRequest = z.infer<typeof embeddingRequestSchema>;

export function embeddingInputs(request: EmbeddingRequest): string[] {
  return typeof request.input === 'string' ? [request.input] : request.input;
}
