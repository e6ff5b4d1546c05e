import { describe, expect, it } from 'vitest';
import { encodeEmbeddingBase64, encodeEmbeddingResult } from './embedding-encoding.js';

describe('encodeEmbeddingBase64', () => {
  it('writes float32 little-endian bytes: 1.0 is 00 00 80 3f', () => {
    expect(Buffer.from(encodeEmbeddingBase64([1]), 'base64')).toEqual(Buffer.from([0x00, 0x00, 0x80, 0x3f]));
  });

  it('reads back as the float32 rounding of each value', () => {
    const vector = [0.1, -2.5, 1e-8, 3.14159];
    const bytes = Buffer.from(encodeEmbeddingBase64(vector), 'base64');
    expect(Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, vector.length))).toEqual(
      vector.map((value) => Math.fround(value)),
    );
  });
});

describe('encodeEmbeddingResult', () => {
  const result = {
    object: 'list' as const,
    model: 'openai/text-embedding-3-small',
    provider: 'openai',
    data: [{ object: 'embedding' as const, index: 0, embedding: [1] }],
    usage: { prompt_tokens: 1, total_tokens: 1 },
  };

  it('keeps floats as stored, and encodes every vector for base64', () => {
    expect(encodeEmbeddingResult(result, 'float')).toBe(result);
    expect(encodeEmbeddingResult(result, 'base64').data).toEqual([
      { object: 'embedding', index: 0, embedding: 'AACAPw==' },
    ]);
  });
});
