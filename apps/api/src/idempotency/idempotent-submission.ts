import { setTimeout as sleep } from 'node:timers/promises';
import { canonicalBodyHash, createJobId, type IdempotencyKeys, type JobRecord, type JobStore } from '@llmq/core';
import { HttpError } from '../http-error.js';

/** How a submission with an Idempotency-Key goes on. */
export type IdempotentStart =
  /** The key already names the queued jobs of this body: answer with them, in order. */
  | { kind: 'replay'; records: JobRecord[] }
  /** This request holds the key: create the jobs under `jobIds`, then `complete()`, or `release()` on failure. */
  | { kind: 'new'; jobIds: string[]; complete(): Promise<void>; release(): Promise<void> };

export interface IdempotencyOptions {
  keys: IdempotencyKeys;
  store: JobStore;
  /** How long a duplicate waits for the first request with its key to queue the job, ms. Default: 10 s. */
  waitMs?: number;
  /** How often a waiting duplicate looks again, ms. Default: 20. */
  pollMs?: number;
}

export interface Idempotency {
  /**
   * Undefined when the request carries no key: submit as usual. `jobs` is how many jobs the body
   * makes (a batch's length; default 1): the key stands for all of them.
   */
  begin(request: {
    tenant: string;
    key: string | undefined;
    body: unknown;
    jobs?: number;
  }): Promise<IdempotentStart | undefined>;
}

// A key's claim holds its job ids in one field; job ids never contain a comma.
const JOB_ID_SEPARATOR = ',';

/** RFC 9110 token characters are too narrow for UUIDs with braces; any visible ASCII is taken. */
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
const KEY_RULE = 'must be 1 to 255 visible ASCII characters';

/** What is wrong with a key, first the length, then the characters; undefined when nothing is. */
function keyProblem(key: string): string | undefined {
  if (KEY_PATTERN.test(key)) return undefined;
  if (key === '') return `is empty; ${KEY_RULE}`;
  if (key.length > 255) return `is ${key.length} characters long; ${KEY_RULE}`;
  // A header sent twice arrives joined by ", ", so a space is the likeliest character here.
  return `holds a space, a control or a non-ASCII character; ${KEY_RULE}`;
}

/**
 * `Idempotency-Key` on `POST /v1/jobs` and `POST /v1/jobs/batch`: the same key and body within
 * the key's lifetime give the same jobs; the same key with another body is a 422. Of concurrent
 * requests with one key, one creates the jobs and the others wait for them, then answer with them.
 */
export function createIdempotency(options: IdempotencyOptions): Idempotency {
  const { keys, store } = options;
  const waitMs = options.waitMs ?? 10_000;
  const pollMs = options.pollMs ?? 20;

  return {
    async begin({ tenant, key, body, jobs = 1 }) {
      if (key === undefined) return undefined;
      const problem = keyProblem(key);
      if (problem !== undefined) throw new HttpError(400, 'invalid_request', `Idempotency-Key: ${problem}`);
      const bodyHash = canonicalBodyHash(body);
      const deadline = Date.now() + waitMs;
      for (;;) {
        const createdAt = Date.now();
        const jobIds = Array.from({ length: jobs }, () => createJobId(createdAt));
        const jobId = jobIds.join(JOB_ID_SEPARATOR);
        const claim = await keys.claim({ tenant, key, bodyHash, jobId });
        if (claim.outcome === 'claimed') {
          return {
            kind: 'new',
            jobIds,
            // The job is queued whatever happens here: a failure only shortens the key's life
            // to the pending claim's, so it is not the client's error.
            complete: () =>
              keys.complete(tenant, key, jobId).then(
                () => undefined,
                () => undefined,
              ),
            release: () => keys.release(tenant, key, jobId).then(() => undefined),
          };
        }
        if (claim.bodyHash !== bodyHash) {
          throw new HttpError(
            422,
            'idempotency_conflict',
            'Idempotency-Key: this key was used with a different request body; use a new key for a new job',
          );
        }
        if (claim.state === 'done') {
          const found = await Promise.all(claim.jobId.split(JOB_ID_SEPARATOR).map((id) => store.get(tenant, id)));
          const records = found.filter((record) => record !== null);
          if (records.length > 0) return { kind: 'replay', records };
          // Its jobs were discarded: the key no longer stands for anything, so this request takes it.
          await keys.release(tenant, key, claim.jobId);
          continue;
        }
        if (Date.now() >= deadline) {
          throw new HttpError(
            409,
            'conflict',
            'Idempotency-Key: a request with this key is still being processed; retry shortly',
          );
        }
        await sleep(pollMs);
      }
    },
  };
}
