import type { Redis } from 'ioredis';
import { nanoToUsd, usdToNano } from '../cost/money.js';
import { BUDGET_RESERVED_FIELD, budgetKey, budgetSpentField, utcMonth } from '../cost/usage-keys.js';
import { readLuaScript } from '../store/lua-scripts.js';
import type { BudgetsConfig } from './budget-config-schema.js';

interface BudgetCommands {
  llmqBudgetReserve(key: string, ...args: string[]): Promise<[number, number, number]>;
}

/** A tenant's month: its budget and what is spent and held against it, USD. */
export interface BudgetStatus {
  /** `YYYY-MM`, UTC. */
  month: string;
  budget_usd: number;
  spent_usd: number;
  /** Held by accepted jobs that have not ended yet. */
  reserved_usd: number;
}

export type Reservation = { ok: true } | { ok: false; status: BudgetStatus; requested_usd: number };

/**
 * Monthly budgets per tenant. A submit reserves its jobs' estimated cost (refused when it would
 * take spent + reserved over the budget); each job's end releases its reservation and charges
 * its real cost in the same atomic step as the end (see job-accounting.ts).
 */
export class BudgetLedger {
  readonly #redis: Redis & BudgetCommands;
  readonly #budgets: BudgetsConfig;
  readonly #now: () => number;

  /** `now`: the clock that picks the month, ms since the epoch. Default: `Date.now`. */
  constructor(options: { redis: Redis; budgets: BudgetsConfig; now?: () => number }) {
    const redis = options.redis as Redis & BudgetCommands;
    if (typeof redis.llmqBudgetReserve !== 'function') {
      redis.defineCommand('llmqBudgetReserve', {
        numberOfKeys: 1,
        lua: readLuaScript(new URL('./lua/budget-reserve.lua', import.meta.url)),
      });
    }
    this.#redis = redis;
    this.#budgets = options.budgets;
    this.#now = options.now ?? Date.now;
  }

  /** The tenant's monthly budget in nano-dollars; null when it has none. */
  budgetNano(tenant: string): number | null {
    const usd = this.#budgets[tenant] ?? this.#budgets['*'];
    return usd === undefined ? null : usdToNano(usd);
  }

  /** Reserves `amountNano` for the tenant's jobs, all or nothing. Tenants without a budget always pass. */
  async reserve(tenant: string, amountNano: number): Promise<Reservation> {
    const budget = this.budgetNano(tenant);
    if (budget === null) return { ok: true };
    const month = utcMonth(this.#now());
    const [reserved, spentNano, reservedNano] = await this.#redis.llmqBudgetReserve(
      budgetKey(tenant),
      String(budget),
      String(amountNano),
      budgetSpentField(month),
    );
    if (reserved === 1) return { ok: true };
    return {
      ok: false,
      requested_usd: nanoToUsd(amountNano),
      status: {
        month,
        budget_usd: nanoToUsd(budget),
        spent_usd: nanoToUsd(spentNano),
        reserved_usd: nanoToUsd(reservedNano),
      },
    };
  }

  /** Gives back a reservation whose jobs were never accepted (the enqueue failed). */
  async release(tenant: string, amountNano: number): Promise<void> {
    if (amountNano > 0) await this.#redis.hincrby(budgetKey(tenant), BUDGET_RESERVED_FIELD, -amountNano);
  }

  /** This month's figures; null for a tenant without a budget. */
  async status(tenant: string): Promise<BudgetStatus | null> {
    const budget = this.budgetNano(tenant);
    if (budget === null) return null;
    const month = utcMonth(this.#now());
    const [spent, reserved] = await this.#redis.hmget(
      budgetKey(tenant),
      budgetSpentField(month),
      BUDGET_RESERVED_FIELD,
    );
    return {
      month,
      budget_usd: nanoToUsd(budget),
      spent_usd: nanoToUsd(Number(spent ?? 0)),
      reserved_usd: nanoToUsd(Number(reserved ?? 0)),
    };
  }
}
