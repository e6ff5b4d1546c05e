import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

/**
 * SHA-256 (hex) of a JSON body in its RFC 8785 canonical form: key order and whitespace do not
 * change the hash, so a client that re-serialises the same body is not taken for a new one.
 */
export function canonicalBodyHash(body: unknown): string {
  // `undefined` (no body) canonicalises to nothing; hash it as the empty string.
  return createHash('sha256')
    .update(canonicalize(body) ?? '')
    .digest('hex');
}
