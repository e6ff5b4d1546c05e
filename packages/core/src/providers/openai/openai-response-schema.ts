import { z } from 'zod';

// Only the fields llmq reads; OpenAI-compatible servers differ in everything else.
export const openAIEmbeddingResponseSchema = z.object({
  data: z.array(z.object({ index: z.number(), embedding: z.array(z.number()) })),
  usage: z.object({ prompt_tokens: z.number() }).nullable().optional(),
});
