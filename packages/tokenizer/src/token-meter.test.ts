import { describe, expect, it } from 'vitest';
import { countTextTokens } from './bounded-token-count.js';
import { TokenMeter } from './token-meter.js';

/** Counts the turns the event loop gets (one per check phase) until stopped. */
function turnCounter(): { turns: () => number; stop: () => void } {
  let turns = 0;
  let running = true;
  const tick = () => {
    if (!running) return;
    turns += 1;
    setImmediate(tick);
  };
  setImmediate(tick);
  return { turns: () => turns, stop: () => (running = false) };
}

describe('TokenMeter', () => {
  it('counts what countTextTokens counts, letting the event loop run between slices', async () => {
    const text = 'Many words make a long prompt; '.repeat(40_000);
    const counter = turnCounter();
    const counted = await new TokenMeter().countText(text);
    counter.stop();
    expect(counted).toBe(countTextTokens(text));
    // 1.2 M characters take far longer than one 5 ms slice: the loop turned between slices.
    expect(counter.turns()).toBeGreaterThan(5);
  });

  it('pauses by the time counted across calls, so many small texts pause too', async () => {
    const meter = new TokenMeter();
    const counter = turnCounter();
    let total = 0;
    const text = 'Some words in a message. '.repeat(400);
    for (let index = 0; index < 500; index += 1) total += await meter.countText(text);
    counter.stop();
    expect(total).toBe(500 * countTextTokens(text));
    expect(counter.turns()).toBeGreaterThan(5);
  });

  it('never pauses on a short text', async () => {
    let ran = false;
    setImmediate(() => (ran = true));
    await new TokenMeter().countText('hello world');
    expect(ran).toBe(false);
  });
});
