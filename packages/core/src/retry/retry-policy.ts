import { attemptsOnModel } from './attempt-budget.js';
import type { ProviderError, ProviderErrorKind } from '../providers/provider-error.js';

/** What to do with a job after a failed provider call. */
export type FailureDecision = { action: 'retry'; delayMs: number } | { action: 'fallback' } | { action: 'fail' };

export interface RetryPolicyOptions {
  /** Provider calls per model before falling back. Default 3. */
  attemptsPerModel: number;
  /** First backoff step, ms. Default 1,000. */
  baseDelayMs: number;
  /** Longest backoff, ms (a provider's retry-after may ask for more, and gets it). Default 60,000. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicyOptions = { attemptsPerModel: 3, baseDelayMs: 1_000, maxDelayMs: 60_000 };

// The next model may well answer where this one cannot: its provider, key or quota differ.
const FALL_BACK_AT_ONCE: ReadonlySet<ProviderErrorKind> = new Set(['authentication', 'permission', 'quota_exceeded']);

/**
 * Exponential backoff with full jitter, capped, and never shorter than the wait the provider
 * asked for with this very error. `attempt` counts from 1 (the call that just failed).
 */
export function backoffDelay(
  attempt: number,
  options: Pick<RetryPolicyOptions, 'baseDelayMs' | 'maxDelayMs'>,
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  const jittered = Math.floor(random() * ceiling);
  return Math.max(jittered, retryAfterMs ?? 0);
}

export interface FailureContext {
  error: ProviderError;
  /** Calls made to the current model, the failed one included. */
  attemptOnModel: number;
  /** Whether a later model in the chain remains. */
  hasFallback: boolean;
  /** ms left before the job's deadline. */
  remainingMs: number;
}

/**
 * The one place that turns a provider failure into queue control flow: wait and retry the same
 * model, move to the next model, or fail the job for good.
 */
export function decideAfterFailure(
  context: FailureContext,
  options: RetryPolicyOptions = DEFAULT_RETRY_POLICY,
  random: () => number = Math.random,
): FailureDecision {
  const { error } = context;
  if (error.kind === 'canceled') return { action: 'fail' };
  if (FALL_BACK_AT_ONCE.has(error.kind)) return context.hasFallback ? { action: 'fallback' } : { action: 'fail' };
  if (!error.retryable) return { action: 'fail' };
  if (context.attemptOnModel >= attemptsOnModel(options.attemptsPerModel, error.kind)) {
    return context.hasFallback ? { action: 'fallback' } : { action: 'fail' };
  }
  const delayMs = backoffDelay(context.attemptOnModel, options, error.retryAfterMs, random);
  if (delayMs >= context.remainingMs) return context.hasFallback ? { action: 'fallback' } : { action: 'fail' };
  return { action: 'retry', delayMs };
}
