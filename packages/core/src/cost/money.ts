/**
 * Money inside llmq is an integer number of nano-dollars (1e-9 USD): sums of integers are exact,
 * and 2^53 nano-dollars (about 9 million USD) is far above any one tenant's month. Prices are
 * kept in pico-dollars per token (1e-12 USD), an integer for any price with up to six decimals
 * per million tokens; a job's cost is rounded once, to the nano-dollar, when it is charged.
 */

/** Nano-dollars in one US dollar. */
export const NANO_USD_PER_USD = 1_000_000_000;

/** Pico-dollars per token in one USD per million tokens. */
export const PICO_USD_PER_TOKEN_PER_USD_PER_MILLION = 1_000_000;

/** A nano-dollar amount as USD for the API (exact back to nano with `usdToNano`). */
export function nanoToUsd(nano: number): number {
  return nano / NANO_USD_PER_USD;
}

/** USD to the nearest nano-dollar. */
export function usdToNano(usd: number): number {
  return Math.round(usd * NANO_USD_PER_USD);
}

/** A price in USD per million tokens as integer pico-dollars per token. */
export function usdPerMillionToPico(usdPerMillion: number): number {
  return Math.round(usdPerMillion * PICO_USD_PER_TOKEN_PER_USD_PER_MILLION);
}

/** True when a USD-per-million price has at most six decimals, so it is exact in pico-dollars per token. */
export function isExactInPico(usdPerMillion: number): boolean {
  const scaled = usdPerMillion * PICO_USD_PER_TOKEN_PER_USD_PER_MILLION;
  return Math.abs(scaled - Math.round(scaled)) < 1e-6;
}

/** Pico-dollars to nano-dollars, rounded half up (amounts are never negative). */
export function picoToNano(pico: number): number {
  return Math.round(pico / 1000);
}
