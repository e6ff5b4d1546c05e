import { Router } from 'express';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import {
  BUILT_IN_PRICES_DATE,
  daysBetween,
  formatValidationError,
  MAX_USAGE_REPORT_DAYS,
  readUsageReport,
  utcDay,
  type BudgetLedger,
} from '@llmq/core';
import { tenantOf } from '../auth.js';
import { HttpError } from '../http-error.js';

const isoDay = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date as YYYY-MM-DD (UTC)')
  .refine((day) => !Number.isNaN(Date.parse(`${day}T00:00:00Z`)) && utcDay(Date.parse(`${day}T00:00:00Z`)) === day, {
    message: 'is not a calendar date',
  });

/** Query of `GET /v1/usage`. */
export const usageQuerySchema = z
  .strictObject({
    /** First UTC day included. Default: the first day of the current month. */
    from: isoDay.optional(),
    /** Last UTC day included. Default: today. */
    to: isoDay.optional(),
    group_by: z.enum(['model', 'day'], { error: 'must be "model" or "day"' }).optional(),
  })
  .transform((query) => {
    const today = utcDay(Date.now());
    return { ...query, from: query.from ?? `${today.slice(0, 7)}-01`, to: query.to ?? today };
  })
  .refine((query) => query.from <= query.to, { message: 'from must not be after to', path: ['from'] })
  .refine((query) => daysBetween(query.from, query.to).length <= MAX_USAGE_REPORT_DAYS, {
    message: `the range covers at most ${MAX_USAGE_REPORT_DAYS} days`,
    path: ['to'],
  });

export interface UsageRoutesOptions {
  redis: Redis;
  /** Adds this month's budget figures to the report. Default: none (`budget: null`). */
  ledger?: BudgetLedger;
}

/**
 * `GET /v1/usage`: the caller's tokens, cost and cache savings per UTC day range, in total and
 * grouped by model or day. The figures are sums of the jobs' own (kept in integer nano-dollars,
 * updated in the same atomic step as each job's end), so they match the jobs exactly.
 */
export function usageRoutes(options: UsageRoutesOptions): Router {
  const router = Router();
  router.get('/v1/usage', async (request, response) => {
    const tenant = tenantOf(request);
    const parsed = usageQuerySchema.safeParse(request.query);
    if (!parsed.success) throw new HttpError(400, 'invalid_request', `query: ${formatValidationError(parsed.error)}`);
    const query = parsed.data;
    const [report, budget] = await Promise.all([
      readUsageReport(options.redis, { tenant, from: query.from, to: query.to, groupBy: query.group_by }),
      options.ledger?.status(tenant) ?? null,
    ]);
    const groupKey = query.group_by ?? 'model';
    response.json({
      object: 'usage',
      from: query.from,
      to: query.to,
      group_by: query.group_by ?? null,
      ...report.total,
      data: report.groups.map((group) => ({ [groupKey]: group.key, ...group.totals })),
      budget,
      built_in_prices_date: BUILT_IN_PRICES_DATE,
    });
  });
  return router;
}
