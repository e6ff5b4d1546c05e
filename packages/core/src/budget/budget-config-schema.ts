import { z } from 'zod';

/**
 * The config file's `budgets:` section: a monthly budget in USD per tenant (UTC calendar
 * months), `"*"` for every tenant without its own. Default: none, nothing is refused.
 */
export const budgetsConfigSchema = z
  .record(
    z.string().regex(/^(\*|[A-Za-z0-9_-]{1,64})$/, 'keys are tenant names or "*"'),
    // Below 2^53 nano-dollars, so every sum stays exact in Lua and JavaScript numbers.
    z.number().positive().max(9_000_000),
  )
  .default({});

export type BudgetsConfig = z.infer<typeof budgetsConfigSchema>;
