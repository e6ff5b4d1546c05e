import { createRandom, hashOf, seedFromHash } from './deterministic-random.js';

/**
 * Deterministic unit-length embedding of `input` for `model`: Gaussian components seeded by a hash
 * of (model, input), normalised to length 1. Components are rounded to float32 so the float and
 * base64 encodings of the same vector decode to identical numbers.
 */
export function simulatedEmbedding(model: string, input: string, dimensions: number): number[] {
  const random = createRandom(seedFromHash(hashOf({ model, input })));
  const components: number[] = [];
  for (let index = 0; index < dimensions; index += 1) {
    // Box-Muller: Gaussian components make the direction uniform on the sphere.
    const radius = Math.sqrt(-2 * Math.log(1 - random()));
    components.push(radius * Math.cos(2 * Math.PI * random()));
  }
  const norm = Math.hypot(...components) || 1;
  return components.map((component) => Math.fround(component / norm));
}

/** A vector as OpenAI's `encoding_format: "base64"` sends it: little-endian float32 bytes. */
export function embeddingToBase64(vector: readonly number[]): string {
  const bytes = Buffer.alloc(vector.length * 4);
  vector.forEach((component, index) => bytes.writeFloatLE(component, index * 4));
  return bytes.toString('base64');
}
