import type { Redis } from 'ioredis';
import { jobRecordKey } from '../store/job-keys.js';
import { RECORD_FIELD } from '../store/job-record-fields.js';
import type { CounterChange } from '../store/job-store.js';
import type { CacheHitKind } from './job-spend.js';
import type { PriceTable, PricedUsage } from './price-table.js';
import type { JobSpendEvent } from './spend-observer.js';
import {
  BUDGET_RESERVED_FIELD,
  budgetKey,
  budgetSpentField,
  USAGE_RETENTION_DAYS,
  usageDayKey,
  utcDay,
  utcMonth,
  type UsageFigure,
} from './usage-keys.js';

/** What a job's terminal transition writes: record fields, counters, and the event for metrics. */
export interface JobEndAccounting {
  fields: Record<string, string | number>;
  counters: CounterChange[];
  event: JobSpendEvent | null;
}

const RETENTION_MS = USAGE_RETENTION_DAYS * 86_400_000;

/** Gives back the budget the job held since it was accepted (nothing when it held none). */
function releaseReservation(tenant: string): CounterChange {
  return {
    key: budgetKey(tenant),
    field: BUDGET_RESERVED_FIELD,
    by: { recordField: RECORD_FIELD.budgetReserved, negate: true },
  };
}

/**
 * The accounting of an end without an answer, which needs no prices: nothing charged, the budget
 * reservation released. Every end without a ledger of its own gets it (see JobLifecycle).
 */
export function endWithoutAnswer(tenant: string): JobEndAccounting {
  return { fields: { [`+${RECORD_FIELD.cost}`]: 0 }, counters: [releaseReservation(tenant)], event: null };
}

/**
 * Turns a job's end into money: the cost on the record (integer nano-dollars), the tenant's daily
 * usage totals per model, the month's spend and the release of the job's budget reservation, all
 * written by the same Lua call that ends the job, so the totals are always the sum of the jobs.
 */
export class JobAccounting {
  readonly prices: PriceTable;

  constructor(options: { prices: PriceTable }) {
    this.prices = options.prices;
  }

  /** A job that ends without an answer (failed, canceled): no usage is reported, nothing is charged. */
  withoutAnswer(tenant: string): JobEndAccounting {
    return endWithoutAnswer(tenant);
  }

  /**
   * A provider's answer on `model`. `saved` is what cached embedding inputs saved (a partial
   * hit), priced on the same model.
   */
  answered(options: {
    tenant: string;
    model: string;
    usage: PricedUsage;
    at: number;
    saved?: { usage: PricedUsage; inputs: number };
    /** Share of the listed price charged: a provider batch's answer costs less (0.5). Default 1. */
    priceFactor?: number;
  }): JobEndAccounting {
    const { tenant, model, usage, at } = options;
    const listed = this.prices.costOf(model, usage);
    const factor = options.priceFactor ?? 1;
    const cost = listed.known ? { ...listed, nano: Math.round(listed.nano * factor) } : listed;
    const costNano = cost.known ? cost.nano : null;
    const day = this.#day(tenant, model, at);
    const counters = [
      releaseReservation(tenant),
      day('input_tokens', usage.input_tokens),
      day('output_tokens', usage.output_tokens),
      cost.known ? day('cost_nano', cost.nano) : day('unpriced_charges', 1),
      { key: budgetKey(tenant), field: budgetSpentField(utcMonth(at)), by: costNano ?? 0 },
    ];
    const fields: Record<string, string | number> = { [`+${RECORD_FIELD.cost}`]: costNano ?? 0 };
    if (!cost.known) fields[RECORD_FIELD.costUnknown] = cost.reason;
    let savedNano: number | null = 0;
    let savedInputTokens = 0;
    if (listed.known && cost.known && listed.nano > cost.nano) {
      // What the batch price saved against the listed one.
      savedNano = listed.nano - cost.nano;
      counters.push(day('saved_nano', savedNano));
      fields[RECORD_FIELD.saved] = savedNano;
    }
    if (options.saved && options.saved.inputs > 0) {
      const saved = this.prices.costOf(model, options.saved.usage);
      savedNano = saved.known ? saved.nano : null;
      savedInputTokens = options.saved.usage.input_tokens;
      counters.push(day('saved_input_tokens', savedInputTokens));
      if (savedNano !== null) {
        counters.push(day('saved_nano', savedNano));
        fields[RECORD_FIELD.saved] = savedNano;
      }
      fields[RECORD_FIELD.cached] = 'partial';
      fields[RECORD_FIELD.cachedInputs] = options.saved.inputs;
    }
    return {
      fields,
      counters,
      event: {
        tenant,
        model,
        inputTokens: usage.input_tokens,
        outputTokens: usage.output_tokens,
        costNano,
        savedNano,
        savedInputTokens,
        savedOutputTokens: 0,
        cached: fields[RECORD_FIELD.cached] === 'partial' ? 'partial' : null,
      },
    };
  }

  /** A job answered wholly from the cache: nothing is charged; `savedUsage` on `model` is what it saved. */
  cacheHit(options: {
    tenant: string;
    model: string;
    savedUsage: PricedUsage;
    at: number;
    kind: Exclude<CacheHitKind, 'partial'>;
    similarity?: number;
    inputs?: number;
  }): JobEndAccounting {
    const { tenant, model, savedUsage, at } = options;
    const saved = this.prices.costOf(model, savedUsage);
    const day = this.#day(tenant, model, at);
    const counters = [
      releaseReservation(tenant),
      day('cache_hits', 1),
      day('saved_input_tokens', savedUsage.input_tokens),
      day('saved_output_tokens', savedUsage.output_tokens),
    ];
    const fields: Record<string, string | number> = {
      [`+${RECORD_FIELD.cost}`]: 0,
      [RECORD_FIELD.cached]: options.kind,
    };
    if (saved.known) {
      counters.push(day('saved_nano', saved.nano));
      fields[RECORD_FIELD.saved] = saved.nano;
    }
    if (options.similarity !== undefined) fields[RECORD_FIELD.cacheSimilarity] = options.similarity;
    if (options.inputs !== undefined) fields[RECORD_FIELD.cachedInputs] = options.inputs;
    return {
      fields,
      counters,
      event: {
        tenant,
        model,
        inputTokens: 0,
        outputTokens: 0,
        costNano: 0,
        savedNano: saved.known ? saved.nano : null,
        savedInputTokens: savedUsage.input_tokens,
        savedOutputTokens: savedUsage.output_tokens,
        cached: options.kind,
      },
    };
  }

  /**
   * Charges a call made on a job's behalf before it ends (the embedding of a semantic lookup):
   * onto the job's cost and the tenant's totals at once, so a job that is retried or parked
   * afterwards still pays for it exactly once.
   */
  async chargeOnTheWay(
    redis: Redis,
    options: { tenant: string; jobId: string; model: string; usage: PricedUsage; at: number },
  ): Promise<number | null> {
    const { tenant, model, usage, at } = options;
    const cost = this.prices.costOf(model, usage);
    const dayKey = usageDayKey(tenant, utcDay(at));
    const transaction = redis
      .multi()
      .hincrby(jobRecordKey(tenant, options.jobId), RECORD_FIELD.cost, cost.known ? cost.nano : 0)
      .hincrby(dayKey, `input_tokens:${model}`, usage.input_tokens)
      .hincrby(dayKey, cost.known ? `cost_nano:${model}` : `unpriced_charges:${model}`, cost.known ? cost.nano : 1)
      .pexpire(dayKey, RETENTION_MS);
    if (cost.known) transaction.hincrby(budgetKey(tenant), budgetSpentField(utcMonth(at)), cost.nano);
    await transaction.exec();
    return cost.known ? cost.nano : null;
  }

  #day(tenant: string, model: string, at: number) {
    const key = usageDayKey(tenant, utcDay(at));
    return (figure: UsageFigure, by: number): CounterChange => ({
      key,
      field: `${figure}:${model}`,
      by,
      keyTtlMs: RETENTION_MS,
    });
  }
}
