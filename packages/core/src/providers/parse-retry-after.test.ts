import { describe, expect, it } from 'vitest';
import { parseRetryAfter } from './parse-retry-after.js';

const now = Date.parse('2026-11-20T12:00:00Z');
const gemini = (retryDelay: string) => ({
  error: {
    code: 429,
    status: 'RESOURCE_EXHAUSTED',
    details: [
      { '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [] },
      { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay },
    ],
  },
});

describe('parseRetryAfter', () => {
  it.each<[string, Headers | Record<string, string>, unknown, number | undefined]>([
    ['retry-after-ms wins', new Headers({ 'retry-after-ms': '1500', 'retry-after': '9' }), undefined, 1500],
    ['fractional retry-after-ms rounds up', new Headers({ 'retry-after-ms': '20.2' }), undefined, 21],
    ['retry-after in seconds', new Headers({ 'retry-after': '7' }), undefined, 7000],
    ['fractional seconds', new Headers({ 'retry-after': '0.5' }), undefined, 500],
    ['retry-after as an HTTP date', new Headers({ 'retry-after': 'Fri, 20 Nov 2026 12:00:30 GMT' }), undefined, 30_000],
    ['an HTTP date in the past is 0', new Headers({ 'retry-after': 'Fri, 20 Nov 2026 11:00:00 GMT' }), undefined, 0],
    ['a plain record of headers', { 'retry-after': '2' }, undefined, 2000],
    ['garbage is ignored', new Headers({ 'retry-after': 'soon', 'retry-after-ms': 'x' }), undefined, undefined],
    ['Gemini RetryInfo in the body', new Headers(), gemini('13s'), 13_000],
    ['Gemini fractional delay', new Headers(), gemini('1.25s'), 1250],
    ['no float noise', new Headers({ 'retry-after': '2.007' }), undefined, 2007],
    ['Gemini without float noise', new Headers(), gemini('2.007s'), 2007],
    ['Gemini body as text', new Headers(), JSON.stringify(gemini('2s')), 2000],
    ['headers win over the body', new Headers({ 'retry-after': '1' }), gemini('30s'), 1000],
    ['nothing at all', new Headers(), { error: { message: 'x' } }, undefined],
  ])('%s', (_name, headers, body, expected) => {
    expect(parseRetryAfter(headers, body, now)).toBe(expected);
  });
});
