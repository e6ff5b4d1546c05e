import type { HeaderSource } from '../providers/parse-retry-after.js';

export interface RemainingQuota {
  requests?: number | undefined;
  tokens?: number | undefined;
}

function read(headers: HeaderSource, name: string): number | undefined {
  if (!headers) return undefined;
  const raw =
    typeof (headers as Headers).get === 'function'
      ? (headers as Headers).get(name)
      : (headers as Record<string, string | string[] | undefined>)[name];
  const text = Array.isArray(raw) ? raw[0] : raw;
  if (text === undefined || text === null || text.trim() === '') return undefined;
  const value = Number(text);
  return Number.isFinite(value) && value >= 0 ? value : undefined;
}

function smallest(...values: Array<number | undefined>): number | undefined {
  const known = values.filter((value): value is number => value !== undefined);
  return known.length === 0 ? undefined : Math.min(...known);
}

/**
 * What a provider says remains of its window: OpenAI's `x-ratelimit-remaining-*` and
 * Anthropic's `anthropic-ratelimit-*-remaining` (the tightest of its token counters).
 */
export function parseRemainingQuota(headers: HeaderSource): RemainingQuota {
  return {
    requests: smallest(
      read(headers, 'x-ratelimit-remaining-requests'),
      read(headers, 'anthropic-ratelimit-requests-remaining'),
    ),
    tokens: smallest(
      read(headers, 'x-ratelimit-remaining-tokens'),
      read(headers, 'anthropic-ratelimit-tokens-remaining'),
      read(headers, 'anthropic-ratelimit-input-tokens-remaining'),
      read(headers, 'anthropic-ratelimit-output-tokens-remaining'),
    ),
  };
}
