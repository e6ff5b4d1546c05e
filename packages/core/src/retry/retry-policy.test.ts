import { describe, expect, it } from 'vitest';
import { ProviderError, type ProviderErrorKind } from '../providers/provider-error.js';
import { backoffDelay, decideAfterFailure, DEFAULT_RETRY_POLICY } from './retry-policy.js';

const error = (kind: ProviderErrorKind, retryAfterMs?: number) =>
  new ProviderError({
    provider: 'openai',
    kind,
    message: kind,
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  });

describe('backoffDelay', () => {
  const options = { baseDelayMs: 1_000, maxDelayMs: 60_000 };

  it('draws uniformly below a ceiling that doubles per attempt and is capped', () => {
    expect(backoffDelay(1, options, undefined, () => 0.999)).toBe(999);
    expect(backoffDelay(2, options, undefined, () => 0.999)).toBe(1_998);
    expect(backoffDelay(4, options, undefined, () => 0.5)).toBe(4_000);
    expect(backoffDelay(20, options, undefined, () => 0.999)).toBe(59_940);
    expect(backoffDelay(3, options, undefined, () => 0)).toBe(0);
  });

  it('never waits less than the retry-after of the current error, even past the cap', () => {
    expect(backoffDelay(1, options, 5_000, () => 0.1)).toBe(5_000);
    expect(backoffDelay(10, options, 90_000, () => 0.1)).toBe(90_000);
    expect(backoffDelay(3, options, 10, () => 0.5)).toBe(2_000);
  });
});

describe('decideAfterFailure', () => {
  const context = { attemptOnModel: 1, hasFallback: true, remainingMs: 3_600_000 };

  it.each<[string, ProviderErrorKind, boolean, string]>([
    ['invalid requests fail at once', 'invalid_request', true, 'fail'],
    ['exhausted quota falls back when it can', 'quota_exceeded', true, 'fallback'],
    ['exhausted quota fails when it cannot', 'quota_exceeded', false, 'fail'],
    ['a bad key falls back', 'authentication', true, 'fallback'],
    ['a refused permission fails alone', 'permission', false, 'fail'],
    ['a canceled call fails', 'canceled', true, 'fail'],
    ['overload retries', 'overloaded', true, 'retry'],
    ['a 500 retries', 'provider_error', true, 'retry'],
    ['a timeout retries', 'timeout', false, 'retry'],
    ['a reset retries', 'connection', false, 'retry'],
    ['a 429 retries', 'rate_limit', true, 'retry'],
  ])('%s', (_name, kind, hasFallback, action) => {
    expect(decideAfterFailure({ ...context, hasFallback, error: error(kind) }).action).toBe(action);
  });

  it('falls back once the model has had its attempts, or fails without a fallback', () => {
    const spent = { ...context, attemptOnModel: DEFAULT_RETRY_POLICY.attemptsPerModel, error: error('overloaded') };
    expect(decideAfterFailure(spent).action).toBe('fallback');
    expect(decideAfterFailure({ ...spent, hasFallback: false }).action).toBe('fail');
  });

  it('gives a 429 three times the attempts of other failures', () => {
    const third = { ...context, attemptOnModel: DEFAULT_RETRY_POLICY.attemptsPerModel, error: error('rate_limit') };
    expect(decideAfterFailure(third).action).toBe('retry');
    expect(decideAfterFailure({ ...third, attemptOnModel: DEFAULT_RETRY_POLICY.attemptsPerModel * 3 }).action).toBe(
      'fallback',
    );
  });

  it('waits at least the retry-after of this error', () => {
    const decision = decideAfterFailure(
      { ...context, error: error('rate_limit', 7_500) },
      DEFAULT_RETRY_POLICY,
      () => 0,
    );
    expect(decision).toEqual({ action: 'retry', delayMs: 7_500 });
  });

  it('does not wait past the deadline: falls back or fails instead', () => {
    const late = { ...context, remainingMs: 1_000, error: error('rate_limit', 5_000) };
    expect(decideAfterFailure(late).action).toBe('fallback');
    expect(decideAfterFailure({ ...late, hasFallback: false }).action).toBe('fail');
  });
});
