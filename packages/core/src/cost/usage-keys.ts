import { tenantTag } from '../store/job-keys.js';

/** Days a tenant's daily usage totals are kept: a little over a year, for year-on-year reports. */
export const USAGE_RETENTION_DAYS = 400;

/** The figures kept per (tenant, UTC day, model), each a hash field `<figure>:<provider/model>`. */
export const USAGE_FIGURES = [
  'input_tokens',
  'output_tokens',
  'cost_nano',
  'saved_nano',
  'saved_input_tokens',
  'saved_output_tokens',
  'cache_hits',
  /** Charges whose model had no price: their tokens are counted, their cost is not. */
  'unpriced_charges',
] as const;
export type UsageFigure = (typeof USAGE_FIGURES)[number];

/** `YYYY-MM-DD` of a time (ms), in UTC. */
export function utcDay(time: number): string {
  return new Date(time).toISOString().slice(0, 10);
}

/** `YYYY-MM` of a time (ms), in UTC: budgets run per calendar month. */
export function utcMonth(time: number): string {
  return new Date(time).toISOString().slice(0, 7);
}

/** Hash of one tenant's usage on one UTC day; same hash tag as the tenant's job records. */
export function usageDayKey(tenant: string, day: string): string {
  return `${tenantTag(tenant)}:usage:${day}`;
}

/**
 * Hash of a tenant's budget state: `reserved` (nano-dollars held by accepted jobs that have not
 * ended) and `spent:<YYYY-MM>` (nano-dollars charged in that month, budget or not).
 */
export function budgetKey(tenant: string): string {
  return `${tenantTag(tenant)}:budget`;
}

export const BUDGET_RESERVED_FIELD = 'reserved';

export function budgetSpentField(month: string): string {
  return `spent:${month}`;
}
