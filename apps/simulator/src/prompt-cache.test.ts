import { describe, expect, it } from 'vitest';
import {
  PROMPT_CACHE_BLOCK_TOKENS,
  PROMPT_CACHE_MIN_TOKENS,
  PROMPT_CACHE_TTL_MS,
  PromptCache,
} from './prompt-cache.js';

/** `count` distinct tokens starting at `first`. */
function tokens(count: number, first = 0): number[] {
  return Array.from({ length: count }, (_, index) => first + index);
}

describe('PromptCache', () => {
  it('reports the shared prefix in whole blocks, from the minimum on', () => {
    const cache = new PromptCache();
    const prompt = tokens(1500);
    expect(cache.use('key', prompt, 1500, 0)).toBe(0);
    expect(cache.use('key', prompt, 1500, 1)).toBe(11 * PROMPT_CACHE_BLOCK_TOKENS);
    // Same first 1,100 tokens, then different: 8 whole blocks shared.
    const diverging = [...prompt.slice(0, 1100), ...tokens(400, 100_000)];
    expect(cache.use('key', diverging, 1500, 2)).toBe(8 * PROMPT_CACHE_BLOCK_TOKENS);
    // Same first 1,000 tokens: 7 blocks, under the minimum.
    const shortShared = [...prompt.slice(0, 1000), ...tokens(500, 200_000)];
    expect(cache.use('key', shortShared, 1500, 3)).toBe(0);
  });

  it('keeps prompts apart by key', () => {
    const cache = new PromptCache();
    cache.use('key-1', tokens(2048), 2048, 0);
    expect(cache.use('key-2', tokens(2048), 2048, 1)).toBe(0);
    expect(cache.use('key-1', tokens(2048), 2048, 2)).toBe(2048);
  });

  it('never reports more than the prompt count the answer gives, in whole blocks', () => {
    const cache = new PromptCache();
    cache.use('key', tokens(2048), 1300, 0);
    expect(cache.use('key', tokens(2048), 1300, 1)).toBe(10 * PROMPT_CACHE_BLOCK_TOKENS);
  });

  it('forgets a prompt 5 minutes after it was last sent', () => {
    const cache = new PromptCache();
    const prompt = tokens(PROMPT_CACHE_MIN_TOKENS);
    cache.use('key', prompt, PROMPT_CACHE_MIN_TOKENS, 0);
    expect(cache.use('key', prompt, PROMPT_CACHE_MIN_TOKENS, PROMPT_CACHE_TTL_MS - 1)).toBe(PROMPT_CACHE_MIN_TOKENS);
    // That use refreshed it: still cached a little under 10 minutes after the first.
    expect(cache.use('key', prompt, PROMPT_CACHE_MIN_TOKENS, 2 * PROMPT_CACHE_TTL_MS - 2)).toBe(
      PROMPT_CACHE_MIN_TOKENS,
    );
    expect(cache.use('key', prompt, PROMPT_CACHE_MIN_TOKENS, 3 * PROMPT_CACHE_TTL_MS)).toBe(0);
  });

  it('drops the oldest prefixes past its capacity', () => {
    const cache = new PromptCache(PROMPT_CACHE_TTL_MS, 10);
    const older = tokens(PROMPT_CACHE_MIN_TOKENS);
    const newer = tokens(PROMPT_CACHE_MIN_TOKENS, 50_000);
    cache.use('key', older, PROMPT_CACHE_MIN_TOKENS, 0);
    cache.use('key', newer, PROMPT_CACHE_MIN_TOKENS, 1);
    expect(cache.use('key', older, PROMPT_CACHE_MIN_TOKENS, 2)).toBe(0);
    expect(cache.use('key', older, PROMPT_CACHE_MIN_TOKENS, 3)).toBe(PROMPT_CACHE_MIN_TOKENS);
  });
});
