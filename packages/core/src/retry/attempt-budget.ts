import type { ProviderErrorKind } from '../providers/provider-error.js';

/**
 * A job's attempt budget, in one place: how many calls each model of its chain gets, and how
 * many BullMQ runs the job has in all.
 */

/** A 429 says "later", not "broken": a model gets this many times its attempts for 429s. */
export const RATE_LIMIT_ATTEMPT_FACTOR = 3;

/** Calls a model gets before the job moves to its next model (or fails), for this kind of failure. */
export function attemptsOnModel(attemptsPerModel: number, kind: ProviderErrorKind): number {
  return kind === 'rate_limit' ? attemptsPerModel * RATE_LIMIT_ATTEMPT_FACTOR : attemptsPerModel;
}

/**
 * BullMQ attempts for a job: every model of its chain gets its attempts (the 429 allowance
 * included), plus one spare so that the processor, not BullMQ's counter, is what ends a job.
 */
export function bullmqAttempts(attemptsPerModel: number, chainLength: number): number {
  return attemptsPerModel * RATE_LIMIT_ATTEMPT_FACTOR * chainLength + 1;
}

/**
 * Whether the run going now is the job's last BullMQ run, so a failure must end the job here
 * rather than leave it to BullMQ. `attemptsMade` counts the runs before this one.
 */
export function isLastRun(attemptsMade: number, attempts: number | undefined): boolean {
  return attemptsMade + 2 > (attempts ?? 1);
}
