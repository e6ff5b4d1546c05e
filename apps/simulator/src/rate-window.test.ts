import { describe, expect, it } from 'vitest';
import { formatResetDuration, retryAfterHeaders } from './rate-limit-headers.js';
import { SlidingWindowLog } from './rate-window.js';

/** Brute force: the most entries / tokens in any window (t - width, t], t over every entry time. */
function bruteForceMaxima(entries: readonly [number, number][], width: number): { requests: number; tokens: number } {
  let requests = 0;
  let tokens = 0;
  for (const [end] of entries) {
    const inside = entries.filter(([time]) => time <= end && end - time < width);
    requests = Math.max(requests, inside.length);
    tokens = Math.max(
      tokens,
      inside.reduce((sum, [, count]) => sum + count, 0),
    );
  }
  return { requests, tokens };
}

describe('SlidingWindowLog', () => {
  it('counts an entry while now - time < window', () => {
    const window = new SlidingWindowLog(1000);
    window.add(0, 10);
    window.add(500, 5);
    expect(window.requests(999)).toBe(2);
    expect(window.tokenTotal(999)).toBe(15);
    expect(window.requests(1000)).toBe(1);
    expect(window.tokenTotal(1500)).toBe(0);
  });

  it('keeps the exact maximum over every window position', () => {
    let seed = 7;
    const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    const entries: [number, number][] = [];
    let time = 0;
    for (let index = 0; index < 2000; index += 1) {
      time += Math.floor(random() * 40);
      entries.push([time, 1 + Math.floor(random() * 100)]);
    }
    const window = new SlidingWindowLog(1000);
    for (const [at, tokens] of entries) window.add(at, tokens);
    const expected = bruteForceMaxima(entries, 1000);
    expect(window.maxRequests).toBe(expected.requests);
    expect(window.maxTokens).toBe(expected.tokens);
  });

  it('says how long until requests or tokens fall to a level', () => {
    const window = new SlidingWindowLog(1000);
    window.add(100, 30);
    window.add(200, 30);
    window.add(300, 30);
    expect(window.msUntilRequestsAtMost(3, 400)).toBe(0);
    expect(window.msUntilRequestsAtMost(2, 400)).toBe(700);
    expect(window.msUntilRequestsAtMost(1, 400)).toBe(800);
    expect(window.msUntilTokensAtMost(90, 400)).toBe(0);
    expect(window.msUntilTokensAtMost(45, 400)).toBe(800);
    expect(window.msUntilOldestExpires(400)).toBe(700);
  });
});

describe('rate-limit header values', () => {
  it.each([
    [0, '0s'],
    [7, '7ms'],
    [999, '999ms'],
    [1000, '1s'],
    [1500, '1.5s'],
    [59_999, '59.999s'],
    [60_000, '1m0s'],
    [360_000, '6m0s'],
    [90_500, '1m30.5s'],
    [3_723_000, '1h2m3s'],
  ])('formats %d ms as %s', (milliseconds, expected) => {
    expect(formatResetDuration(milliseconds)).toBe(expected);
  });

  it('sends retry-after-ms exactly and retry-after rounded up to seconds', () => {
    expect(retryAfterHeaders(1234.2)).toEqual({ 'retry-after-ms': '1235', 'retry-after': '2' });
    expect(retryAfterHeaders(undefined)).toEqual({});
  });
});
