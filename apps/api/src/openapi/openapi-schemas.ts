import { z } from 'zod';

/**
 * Schemas of the answers other than jobs and errors (job-object-schemas.ts, error-schemas.ts),
 * for the OpenAPI document. Requests are described by the very schemas the routes validate with;
 * answers are built by code, so these describe them, closed, and openapi.test.ts parses real
 * answers with them to keep the two in step.
 */

const unixSeconds = z.number().describe('Unix seconds');
const utcDay = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/)
  .describe('a UTC day, YYYY-MM-DD');

const webhookSecretEntrySchema = z.strictObject({
  id: z.string(),
  secret: z
    .string()
    .regex(/^whsec_[A-Za-z0-9+/]+=*$/)
    .describe('whsec_<base64>'),
  created_at: unixSeconds,
  expires_at: unixSeconds.optional().describe('when a rotated-out secret stops signing'),
});

export const webhookSecretSchema = z.strictObject({
  object: z.literal('webhook_secret'),
  current: webhookSecretEntrySchema,
  previous: z.array(webhookSecretEntrySchema),
});

export const healthSchema = z.strictObject({ status: z.literal('ok') });
export const readySchema = z.strictObject({ status: z.literal('ready') });

const usageTotalsShape = {
  input_tokens: z.number(),
  output_tokens: z.number(),
  cost_usd: z.number(),
  saved_usd: z.number(),
  saved_input_tokens: z.number(),
  saved_output_tokens: z.number(),
  cache_hits: z.number(),
  unpriced_charges: z.number().describe('charges whose price was unknown (not in cost_usd)'),
};

/** A tenant's month against its budget (BudgetStatus). */
export const budgetStatusSchema = z
  .strictObject({
    month: z
      .string()
      .regex(/^\d{4}-\d{2}$/)
      .describe('the UTC month, YYYY-MM'),
    budget_usd: z.number(),
    spent_usd: z.number(),
    reserved_usd: z.number().describe('held by accepted jobs that have not ended yet'),
  })
  .describe("this month's budget figures");

const usageReportShape = {
  object: z.literal('usage'),
  from: utcDay.describe('first UTC day, YYYY-MM-DD'),
  to: utcDay.describe('last UTC day, YYYY-MM-DD'),
  ...usageTotalsShape,
  budget: budgetStatusSchema.nullable().describe('null when no budget applies to the tenant'),
  built_in_prices_date: utcDay.describe('the date of the built-in price table'),
};

/**
 * `GET /v1/usage`: the totals, and one group per model or per day as `group_by` asks. Without
 * `group_by` (null) `data` is empty; that case shares the model variant, because openapi-fetch
 * drops a property whose type is only `null` from the answer's type.
 */
export const usageReportSchema = z.union([
  z.strictObject({
    ...usageReportShape,
    group_by: z.literal('model').nullable(),
    data: z.array(z.strictObject({ model: z.string().describe('provider/model'), ...usageTotalsShape })),
  }),
  z.strictObject({
    ...usageReportShape,
    group_by: z.literal('day'),
    data: z.array(z.strictObject({ day: utcDay, ...usageTotalsShape })),
  }),
]);
