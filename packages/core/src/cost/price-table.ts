import picomatch from 'picomatch';
import { BUILT_IN_PRICES } from './built-in-prices.js';
import { picoToNano, usdPerMillionToPico } from './money.js';
import { modelPriceSchema, type ModelPriceConfig, type PricesConfig } from './price-config-schema.js';

/** A model's price in integer pico-dollars per token. */
export interface ModelPrice {
  inputPico: number;
  outputPico: number;
  cachedInputPico: number;
  /** Where the price comes from: the config pattern that matched, or `built-in`. */
  source: string;
}

/** Tokens of one provider call (or of what a cache hit saved). */
export interface PricedUsage {
  input_tokens: number;
  output_tokens: number;
  /** Prompt tokens the provider served from its own prompt cache; part of `input_tokens`. Default 0. */
  cached_input_tokens?: number;
}

export type CostResult = { known: true; nano: number } | { known: false; reason: string };

// A dated snapshot of a listed model: `gpt-4o-mini-2024-07-18`, `claude-sonnet-4-5-20250929`.
const SNAPSHOT_SUFFIX = /^-20[0-9-]+$/;

function toModelPrice(config: ModelPriceConfig, source: string): ModelPrice {
  const parsed = modelPriceSchema.parse(config);
  return {
    inputPico: usdPerMillionToPico(parsed.input),
    outputPico: usdPerMillionToPico(parsed.output),
    cachedInputPico: usdPerMillionToPico(parsed.cached_input ?? parsed.input),
    source,
  };
}

/**
 * Prices per `provider/model`: the config file's `prices:` first (exact names, then longer
 * globs), then the built-in table (exact names and their dated snapshots).
 */
export class PriceTable {
  readonly #configured: Array<{ pattern: string; match: (model: string) => boolean; price: ModelPrice }>;
  readonly #builtIn: ReadonlyMap<string, ModelPrice>;
  readonly #memo = new Map<string, ModelPrice | null>();

  /** `configured`: the config's `prices:` (default: none); `builtIn`: the fallback table (default: BUILT_IN_PRICES). */
  constructor(options: { configured?: PricesConfig; builtIn?: Readonly<Record<string, ModelPriceConfig>> } = {}) {
    this.#configured = Object.entries(options.configured ?? {})
      .sort(([left], [right]) => Number(left.includes('*')) - Number(right.includes('*')) || right.length - left.length)
      .map(([pattern, price]) => ({
        pattern,
        match: picomatch(pattern, { dot: true }),
        price: toModelPrice(price, `config: ${pattern}`),
      }));
    this.#builtIn = new Map(
      Object.entries(options.builtIn ?? BUILT_IN_PRICES).map(([model, price]) => [
        model,
        toModelPrice(price, 'built-in'),
      ]),
    );
  }

  /** The price of a concrete `provider/model`, or null when neither the config nor the built-in table has it. */
  priceOf(model: string): ModelPrice | null {
    let price = this.#memo.get(model);
    if (price === undefined) {
      price = this.#configured.find((rule) => rule.match(model))?.price ?? this.#builtInPrice(model);
      this.#memo.set(model, price);
    }
    return price;
  }

  /** What `usage` on `model` costs, in nano-dollars, rounded once. */
  costOf(model: string, usage: PricedUsage): CostResult {
    const price = this.priceOf(model);
    if (price === null) return { known: false, reason: `no price for "${model}": add it under prices: in the config` };
    const cached = Math.min(usage.cached_input_tokens ?? 0, usage.input_tokens);
    const pico =
      (usage.input_tokens - cached) * price.inputPico +
      cached * price.cachedInputPico +
      usage.output_tokens * price.outputPico;
    return { known: true, nano: picoToNano(pico) };
  }

  #builtInPrice(model: string): ModelPrice | null {
    const exact = this.#builtIn.get(model);
    if (exact) return exact;
    for (const [name, price] of this.#builtIn) {
      if (model.startsWith(name) && SNAPSHOT_SUFFIX.test(model.slice(name.length))) return price;
    }
    return null;
  }
}
