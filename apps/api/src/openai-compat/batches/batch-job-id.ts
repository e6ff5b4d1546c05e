import { createHash } from 'node:crypto';
import { encodeJobIdTime, JOB_ID_PREFIX } from '@llmq/core';

// The job id alphabet (Crockford base32), so a line's id is an ordinary job id.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * The job id of a batch's line: the batch's creation time, then 16 characters of a hash of the
 * batch id and the line. The same line always gets the same id, so acceptance retaken after a
 * crash finds the jobs it already made instead of making them twice.
 */
export function batchJobId(batchId: string, lineIndex: number): string {
  // Batch ids carry their creation time in ms as 12 base-36 characters after `batch_`.
  const createdAt = Number.parseInt(batchId.slice(6, 18), 36);
  const digest = createHash('sha256').update(`${batchId}:${lineIndex}`).digest();
  let random = '';
  for (let index = 0; index < 16; index += 1) random += ALPHABET.charAt((digest[index] ?? 0) % 32);
  return `${JOB_ID_PREFIX}${encodeJobIdTime(createdAt)}${random}`;
}
