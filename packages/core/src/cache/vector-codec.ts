import { endianness } from 'node:os';

/** Vectors as Redis keeps them: little-endian float32, 4 bytes a component. */

const LITTLE_ENDIAN_HOST = endianness() === 'LE';

export function packVector(vector: ArrayLike<number>): Buffer {
  const bytes = Buffer.alloc(vector.length * 4);
  for (let index = 0; index < vector.length; index += 1) bytes.writeFloatLE(vector[index] ?? 0, index * 4);
  return bytes;
}

export function unpackVector(bytes: Buffer): Float32Array {
  const length = bytes.length >> 2;
  if (LITTLE_ENDIAN_HOST) {
    // A reply's Buffer may sit at an offset a Float32Array cannot start at: copy those.
    if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, length);
    return new Float32Array(Uint8Array.prototype.slice.call(bytes, 0, length * 4).buffer);
  }
  const vector = new Float32Array(length);
  for (let index = 0; index < vector.length; index += 1) vector[index] = bytes.readFloatLE(index * 4);
  return vector;
}

/** The vector scaled to length 1 (a zero vector stays zero), so cosine similarity is a dot product. */
export function normaliseVector(vector: ArrayLike<number>): Float32Array {
  let sum = 0;
  for (let index = 0; index < vector.length; index += 1) sum += (vector[index] ?? 0) ** 2;
  const scale = sum > 0 ? 1 / Math.sqrt(sum) : 0;
  const unit = new Float32Array(vector.length);
  for (let index = 0; index < vector.length; index += 1) unit[index] = (vector[index] ?? 0) * scale;
  return unit;
}

/** Dot product of two vectors of the same length (cosine similarity when both are unit length). */
export function dotProduct(left: Float32Array, right: Float32Array): number {
  if (left.length !== right.length) return Number.NEGATIVE_INFINITY;
  let sum = 0;
  for (let index = 0; index < left.length; index += 1) sum += (left[index] ?? 0) * (right[index] ?? 0);
  return sum;
}
