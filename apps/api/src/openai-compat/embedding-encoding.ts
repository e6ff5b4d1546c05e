import type { EmbeddingResult } from '@llmq/core';

/** One vector as OpenAI's `encoding_format: "base64"` sends it: float32 little-endian bytes, base64. */
export function encodeEmbeddingBase64(vector: readonly number[]): string {
  const bytes = Buffer.alloc(vector.length * 4);
  for (const [index, value] of vector.entries()) bytes.writeFloatLE(value, index * 4);
  return bytes.toString('base64');
}

/** A stored embedding result in the encoding the request asked for. */
export function encodeEmbeddingResult(
  result: EmbeddingResult,
  encoding: 'float' | 'base64',
):
  | EmbeddingResult
  | (Omit<EmbeddingResult, 'data'> & { data: Array<{ object: 'embedding'; index: number; embedding: string }> }) {
  if (encoding === 'float') return result;
  return {
    ...result,
    data: result.data.map((item) => ({ ...item, embedding: encodeEmbeddingBase64(item.embedding) })),
  };
}
