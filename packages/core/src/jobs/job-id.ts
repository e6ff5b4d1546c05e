import { randomBytes } from 'node:crypto';

// Crockford base32: ids sort by creation time as plain strings, which the per-tenant
// indexes rely on (ZRANGEBYLEX). Too small a need for a dependency.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const TIME_CHARS = 10;
const RANDOM_CHARS = 16;

/** The prefix every llmq job id starts with. */
export const JOB_ID_PREFIX = 'job_';

const JOB_ID_PATTERN = new RegExp(`^${JOB_ID_PREFIX}[${ALPHABET}]{${TIME_CHARS + RANDOM_CHARS}}$`);

/** Encodes a millisecond timestamp as the 10-character, lexically sortable time part of an id. */
export function encodeJobIdTime(epochMs: number): string {
  let remaining = Math.max(0, Math.floor(epochMs));
  let encoded = '';
  for (let index = 0; index < TIME_CHARS; index += 1) {
    encoded = ALPHABET.charAt(remaining % 32) + encoded;
    remaining = Math.floor(remaining / 32);
  }
  return encoded;
}

/** A new job id: `job_` + 10 time characters + 16 random characters (80 bits). */
export function createJobId(now: number = Date.now()): string {
  const bytes = randomBytes(RANDOM_CHARS);
  let random = '';
  for (const byte of bytes) random += ALPHABET.charAt(byte % 32);
  return `${JOB_ID_PREFIX}${encodeJobIdTime(now)}${random}`;
}

export function isJobId(value: string): boolean {
  return JOB_ID_PATTERN.test(value);
}

/** The smallest id that can exist for a job created at `epochMs`; useful as a range bound. */
export function lowestJobIdAt(epochMs: number): string {
  return `${JOB_ID_PREFIX}${encodeJobIdTime(epochMs)}`;
}
