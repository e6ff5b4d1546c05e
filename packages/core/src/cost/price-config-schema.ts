import { z } from 'zod';
import { isExactInPico } from './money.js';

const usdPerMillionTokens = z
  .number()
  .min(0)
  .max(100_000)
  .refine(isExactInPico, 'at most six decimals (USD per million tokens)');

/** One model's price, USD per million tokens. */
export const modelPriceSchema = z.strictObject({
  /** Prompt tokens. */
  input: usdPerMillionTokens,
  /** Generated tokens. Default 0 (embedding models). */
  output: usdPerMillionTokens.default(0),
  /** Prompt tokens the provider served from its prompt cache. Default: the input price. */
  cached_input: usdPerMillionTokens.optional(),
});

export type ModelPriceConfig = z.input<typeof modelPriceSchema>;

/**
 * The config file's `prices:` section: per provider/model, glob allowed (as in `limits:`).
 * Entries here win over the built-in table; a model neither names has an unknown price.
 */
export const pricesConfigSchema = z.record(z.string().min(1), modelPriceSchema).default({});

export type PricesConfig = z.infer<typeof pricesConfigSchema>;
