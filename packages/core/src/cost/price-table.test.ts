import { describe, expect, it } from 'vitest';
import { nanoToUsd, usdToNano } from './money.js';
import { pricesConfigSchema } from './price-config-schema.js';
import { PriceTable } from './price-table.js';

describe('PriceTable', () => {
  const table = new PriceTable({
    configured: pricesConfigSchema.parse({
      'local/*': { input: 0 },
      'openai/gpt-4o-mini': { input: 0.2, output: 0.8 },
      'openai/ft:*': { input: 0.3, output: 1.2, cached_input: 0.15 },
    }),
  });

  it('prices from the built-in table, per million tokens, in exact nano-dollars', () => {
    // 1,000 input tokens at $1/M and 500 output tokens at $5/M: $0.001 + $0.0025.
    expect(table.costOf('anthropic/claude-haiku-4-5', { input_tokens: 1_000, output_tokens: 500 })).toEqual({
      known: true,
      nano: 3_500_000,
    });
    // 9 input tokens at $0.02/M: 0.18 micro-dollars, kept exactly.
    expect(table.costOf('openai/text-embedding-3-small', { input_tokens: 9, output_tokens: 0 })).toEqual({
      known: true,
      nano: 180,
    });
  });

  it('lets the config override built-in prices and add models by glob, exact names first', () => {
    expect(table.priceOf('openai/gpt-4o-mini')?.source).toBe('config: openai/gpt-4o-mini');
    expect(table.costOf('openai/gpt-4o-mini', { input_tokens: 10, output_tokens: 10 })).toEqual({
      known: true,
      nano: 10_000,
    });
    expect(table.costOf('local/llama3.2:1b', { input_tokens: 1_000, output_tokens: 1_000 })).toEqual({
      known: true,
      nano: 0,
    });
  });

  it('matches dated snapshots of built-in models but not other models sharing a prefix', () => {
    expect(table.priceOf('openai/gpt-4o-2024-08-06')?.inputPico).toBe(2_500_000);
    expect(table.priceOf('anthropic/claude-sonnet-4-5-20250929')?.outputPico).toBe(15_000_000);
    expect(table.priceOf('openai/gpt-4o-audio-preview')).toBeNull();
  });

  it('charges cached input at its own price', () => {
    const cost = table.costOf('openai/ft:gpt-4o-mini:acme', {
      input_tokens: 1_000,
      cached_input_tokens: 400,
      output_tokens: 0,
    });
    expect(cost).toEqual({ known: true, nano: 600 * 300 + 400 * 150 });
  });

  it('says why a price is unknown', () => {
    const cost = table.costOf('ollama/llama3', { input_tokens: 1, output_tokens: 1 });
    expect(cost).toEqual({ known: false, reason: expect.stringContaining('no price for "ollama/llama3"') as unknown });
  });

  it('refuses prices that are not exact in pico-dollars per token', () => {
    expect(pricesConfigSchema.safeParse({ 'x/y': { input: 0.0000001 } }).success).toBe(false);
    expect(pricesConfigSchema.safeParse({ 'x/y': { input: 0.000001 } }).success).toBe(true);
  });

  it('converts nano-dollars to USD and back without drift', () => {
    for (const nano of [0, 1, 180, 1_350, 3_500_000, 123_456_789_012, 9_000_000_000_000_000]) {
      expect(usdToNano(nanoToUsd(nano))).toBe(nano);
    }
  });
});
