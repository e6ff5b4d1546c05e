import type { ModelPriceConfig } from './price-config-schema.js';

/**
 * The date of the built-in prices below: the providers' list prices (standard tier, pay as you
 * go, prompts up to 200k tokens where a longer-prompt tier exists) as published then. Prices
 * change: override or add models in the config file's `prices:` section.
 */
export const BUILT_IN_PRICES_DATE = '2025-11-20';

/**
 * USD per million tokens. `cached_input` is the provider's price for prompt tokens served from
 * its own prompt cache (OpenAI cached input, Anthropic cache reads, Gemini context caching).
 * Each name also matches the provider's dated snapshots (`<name>-20*`, e.g.
 * `gpt-4o-mini-2024-07-18`, `claude-sonnet-4-5-20250929`).
 */
export const BUILT_IN_PRICES: Readonly<Record<string, ModelPriceConfig>> = {
  'openai/gpt-5': { input: 1.25, cached_input: 0.125, output: 10 },
  'openai/gpt-5-mini': { input: 0.25, cached_input: 0.025, output: 2 },
  'openai/gpt-5-nano': { input: 0.05, cached_input: 0.005, output: 0.4 },
  'openai/gpt-4.1': { input: 2, cached_input: 0.5, output: 8 },
  'openai/gpt-4.1-mini': { input: 0.4, cached_input: 0.1, output: 1.6 },
  'openai/gpt-4.1-nano': { input: 0.1, cached_input: 0.025, output: 0.4 },
  'openai/gpt-4o': { input: 2.5, cached_input: 1.25, output: 10 },
  'openai/gpt-4o-mini': { input: 0.15, cached_input: 0.075, output: 0.6 },
  'openai/o3': { input: 2, cached_input: 0.5, output: 8 },
  'openai/o3-mini': { input: 1.1, cached_input: 0.55, output: 4.4 },
  'openai/o4-mini': { input: 1.1, cached_input: 0.275, output: 4.4 },
  'openai/text-embedding-3-small': { input: 0.02, output: 0 },
  'openai/text-embedding-3-large': { input: 0.13, output: 0 },
  'openai/text-embedding-ada-002': { input: 0.1, output: 0 },
  'anthropic/claude-opus-4-5': { input: 5, cached_input: 0.5, output: 25 },
  'anthropic/claude-opus-4-1': { input: 15, cached_input: 1.5, output: 75 },
  'anthropic/claude-opus-4-0': { input: 15, cached_input: 1.5, output: 75 },
  'anthropic/claude-sonnet-4-5': { input: 3, cached_input: 0.3, output: 15 },
  'anthropic/claude-sonnet-4-0': { input: 3, cached_input: 0.3, output: 15 },
  'anthropic/claude-3-7-sonnet-latest': { input: 3, cached_input: 0.3, output: 15 },
  'anthropic/claude-haiku-4-5': { input: 1, cached_input: 0.1, output: 5 },
  'anthropic/claude-3-5-haiku-latest': { input: 0.8, cached_input: 0.08, output: 4 },
  'google/gemini-2.5-pro': { input: 1.25, cached_input: 0.125, output: 10 },
  'google/gemini-2.5-flash': { input: 0.3, cached_input: 0.03, output: 2.5 },
  'google/gemini-2.5-flash-lite': { input: 0.1, cached_input: 0.01, output: 0.4 },
  'google/gemini-2.0-flash': { input: 0.1, cached_input: 0.025, output: 0.4 },
  'google/gemini-2.0-flash-lite': { input: 0.075, output: 0.3 },
  'google/gemini-embedding-001': { input: 0.15, output: 0 },
};
