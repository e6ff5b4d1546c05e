import type { Redis } from 'ioredis';
import { nanoToUsd } from './money.js';
import { USAGE_FIGURES, usageDayKey, type UsageFigure } from './usage-keys.js';

/** Longest range one usage report covers, days. */
export const MAX_USAGE_REPORT_DAYS = 400;

/** A tenant's usage over a period, as `GET /v1/usage` shows it. */
export interface UsageTotals {
  input_tokens: number;
  output_tokens: number;
  /** Sum of the jobs' `cost_usd` (computed from integer nano-dollars, so exact). */
  cost_usd: number;
  saved_usd: number;
  saved_input_tokens: number;
  saved_output_tokens: number;
  /** Jobs answered wholly from the cache. */
  cache_hits: number;
  /** Charges on models without a price: their tokens are counted above, their cost is not. */
  unpriced_charges: number;
}

export interface UsageReport {
  total: UsageTotals;
  /** With a grouping: one entry per model or per day that had usage, sorted by key. */
  groups: Array<{ key: string; totals: UsageTotals }>;
}

type RawTotals = Record<UsageFigure, number>;

const emptyRaw = (): RawTotals => Object.fromEntries(USAGE_FIGURES.map((figure) => [figure, 0])) as RawTotals;

function toTotals(raw: RawTotals): UsageTotals {
  const { cost_nano: cost, saved_nano: saved, ...counts } = raw;
  return { ...counts, cost_usd: nanoToUsd(cost), saved_usd: nanoToUsd(saved) };
}

/** Every UTC day from `from` to `to` (`YYYY-MM-DD`, both included). */
export function daysBetween(from: string, to: string): string[] {
  const days: string[] = [];
  for (let time = Date.parse(`${from}T00:00:00Z`); time <= Date.parse(`${to}T00:00:00Z`); time += 86_400_000) {
    days.push(new Date(time).toISOString().slice(0, 10));
  }
  return days;
}

/** Sums a tenant's daily totals over `from`..`to`, optionally grouped by model or by day. */
export async function readUsageReport(
  redis: Redis,
  /** `from`, `to`: UTC days, `YYYY-MM-DD`, both included. `groupBy`: default none (totals only). */
  options: { tenant: string; from: string; to: string; groupBy?: 'model' | 'day' | undefined },
): Promise<UsageReport> {
  const days = daysBetween(options.from, options.to);
  const pipeline = redis.pipeline();
  for (const day of days) pipeline.hgetall(usageDayKey(options.tenant, day));
  const replies = (await pipeline.exec()) ?? [];
  const total = emptyRaw();
  const groups = new Map<string, RawTotals>();
  for (const [position, day] of days.entries()) {
    const fields = (replies[position]?.[1] ?? {}) as Record<string, string>;
    for (const [field, value] of Object.entries(fields)) {
      const colon = field.indexOf(':');
      const figure = field.slice(0, colon) as UsageFigure;
      if (colon === -1 || !USAGE_FIGURES.includes(figure)) continue;
      const amount = Number(value);
      total[figure] += amount;
      if (options.groupBy === undefined) continue;
      const key = options.groupBy === 'day' ? day : field.slice(colon + 1);
      const group = groups.get(key) ?? emptyRaw();
      group[figure] += amount;
      groups.set(key, group);
    }
  }
  return {
    total: toTotals(total),
    groups: [...groups.entries()]
      .sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0))
      .map(([key, raw]) => ({ key, totals: toTotals(raw) })),
  };
}
