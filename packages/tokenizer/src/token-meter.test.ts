import { describe, expect, it } from 'vitest';
import { countTextTokens } from './bounded-token-count.js';
import { TOKENIZE_SLICE_CHARS, TokenMeter } from './token-meter.js';

describe('TokenMeter', () => {
  it('counts what countTextTokens counts, letting the event loop run between slices', async () => {
    const text = 'Many words make a long prompt; '.repeat(40_000);
    let turns = 0;
    const ticker = setInterval(() => (turns += 1), 0);
    const counted = await new TokenMeter().countText(text);
    clearInterval(ticker);
    expect(counted).toBe(countTextTokens(text));
    // 1.2 M characters in 16 K slices: the timer ran between them, not only after.
    expect(turns).toBeGreaterThan(5);
  });

  it('pauses by the characters counted across calls, so many small texts pause too', async () => {
    const meter = new TokenMeter();
    let turns = 0;
    const ticker = setInterval(() => (turns += 1), 0);
    let total = 0;
    for (let index = 0; index < 200; index += 1) total += await meter.countText('x'.repeat(TOKENIZE_SLICE_CHARS / 8));
    clearInterval(ticker);
    expect(total).toBe(200 * countTextTokens('x'.repeat(TOKENIZE_SLICE_CHARS / 8)));
    expect(turns).toBeGreaterThan(5);
  });

  it('never pauses on a short text', async () => {
    let ran = false;
    setImmediate(() => (ran = true));
    await new TokenMeter().countText('hello world');
    expect(ran).toBe(false);
  });
});
