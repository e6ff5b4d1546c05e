import type { CacheHitKind } from './job-spend.js';

/** One job's end, as money: what was charged and what the cache saved. */
export interface JobSpendEvent {
  tenant: string;
  /** `provider/model` charged (or, for a hit, whose answer was reused). */
  model: string;
  inputTokens: number;
  outputTokens: number;
  /** Nano-dollars; null when the model has no price. */
  costNano: number | null;
  /** Nano-dollars the cache saved; null when the price is unknown, 0 without a hit. */
  savedNano: number | null;
  savedInputTokens: number;
  savedOutputTokens: number;
  cached: CacheHitKind | null;
}

/** A cache lookup's outcome. `embedding` counts inputs, the others jobs. */
export interface CacheLookupEvent {
  tenant: string;
  model: string;
  mode: 'exact' | 'semantic' | 'embedding';
  hits: number;
  misses: number;
}

/**
 * Where the cache and cost numbers go for metrics (issue 7 wires them to Prometheus). Every
 * method must be cheap and must not throw: they run on the job path.
 */
export interface SpendObserver {
  cacheLookup(event: CacheLookupEvent): void;
  jobSpend(event: JobSpendEvent): void;
  budgetRefused(event: { tenant: string }): void;
}

/** A SpendObserver that keeps running totals in memory, for a /metrics collector or a test to read. */
export class SpendCounters implements SpendObserver {
  /** `${mode}|${hit|miss}` -> count. */
  readonly cacheLookups = new Map<string, number>();
  /** `${tenant}|${model}` -> totals. */
  readonly spend = new Map<
    string,
    { costNano: number; savedNano: number; inputTokens: number; outputTokens: number; savedTokens: number }
  >();
  readonly budgetRefusals = new Map<string, number>();

  cacheLookup(event: CacheLookupEvent): void {
    const add = (outcome: string, count: number) => {
      if (count === 0) return;
      const key = `${event.mode}|${outcome}`;
      this.cacheLookups.set(key, (this.cacheLookups.get(key) ?? 0) + count);
    };
    add('hit', event.hits);
    add('miss', event.misses);
  }

  jobSpend(event: JobSpendEvent): void {
    const key = `${event.tenant}|${event.model}`;
    const totals = this.spend.get(key) ?? {
      costNano: 0,
      savedNano: 0,
      inputTokens: 0,
      outputTokens: 0,
      savedTokens: 0,
    };
    totals.costNano += event.costNano ?? 0;
    totals.savedNano += event.savedNano ?? 0;
    totals.inputTokens += event.inputTokens;
    totals.outputTokens += event.outputTokens;
    totals.savedTokens += event.savedInputTokens + event.savedOutputTokens;
    this.spend.set(key, totals);
  }

  budgetRefused(event: { tenant: string }): void {
    this.budgetRefusals.set(event.tenant, (this.budgetRefusals.get(event.tenant) ?? 0) + 1);
  }
}
