import { describe, expect, it } from 'vitest';
import { parseRemainingQuota } from './parse-rate-limit-headers.js';

describe('parseRemainingQuota', () => {
  it.each<[string, Record<string, string>, { requests?: number; tokens?: number }]>([
    [
      'OpenAI',
      { 'x-ratelimit-remaining-requests': '499', 'x-ratelimit-remaining-tokens': '199000' },
      { requests: 499, tokens: 199_000 },
    ],
    [
      'Anthropic, the tightest token counter',
      {
        'anthropic-ratelimit-requests-remaining': '49',
        'anthropic-ratelimit-tokens-remaining': '30000',
        'anthropic-ratelimit-output-tokens-remaining': '8000',
      },
      { requests: 49, tokens: 8_000 },
    ],
    ['nothing', {}, {}],
    ['garbage', { 'x-ratelimit-remaining-requests': 'lots' }, {}],
  ])('%s', (_name, headers, expected) => {
    expect(parseRemainingQuota(new Headers(headers))).toEqual({ requests: undefined, tokens: undefined, ...expected });
  });
});
