import { RECORD_FIELD } from '../store/job-record-fields.js';
import type { ModelCatalog } from '../catalog/model-catalog.js';
import { JobAccounting } from '../cost/job-accounting.js';
import { nanoToUsd, usdToNano } from '../cost/money.js';
import type { PriceTable } from '../cost/price-table.js';
import type { SpendObserver } from '../cost/spend-observer.js';
import type { JobSubmission } from '../jobs/job-submission-schema.js';
import type { CounterChange } from '../store/job-store.js';
import type { BudgetLedger } from './budget-ledger.js';
import { estimateJobCostNano } from './job-cost-estimate.js';

/** `$0.000123`: nano-dollars as USD, without trailing zeros or exponents. */
function formatUsd(nano: number): string {
  return `$${(nano / 1e9).toFixed(9).replace(/0+$/, '').replace(/\.$/, '')}`;
}

/** Jobs let through: each one's record fields, and how to give the reservation back if they are not accepted after all. */
export interface BudgetHold {
  ok: true;
  /** Record fields of the job at `index` (its reservation). */
  fieldsFor(index: number): Record<string, string>;
  /** Releases the whole reservation (the jobs were not accepted). */
  release(): Promise<void>;
}

export interface BudgetRefusal {
  ok: false;
  message: string;
  /** For the error body: the month's figures (`BudgetStatus`) and `estimate_usd`, the estimate that did not fit. */
  details: Record<string, unknown>;
}

/**
 * The API's side of budgets: at submit, the jobs' estimated cost is reserved against the tenant's
 * monthly budget, all or none (a batch is one reservation); a job ended by the API (canceled)
 * releases its reservation in its terminal transition.
 */
export class BudgetGuard {
  readonly #ledger: BudgetLedger;
  readonly #accounting: JobAccounting;
  readonly #options: {
    prices: PriceTable;
    catalog: ModelCatalog;
    defaultOutputTokens: number;
    anthropicDefaultMaxTokens: number | undefined;
    observer: SpendObserver | undefined;
  };

  constructor(options: {
    ledger: BudgetLedger;
    prices: PriceTable;
    catalog: ModelCatalog;
    /** Output tokens of a chat request without max_tokens (`default_output_tokens`). */
    defaultOutputTokens: number;
    /** Default 4096 (`anthropic_default_max_tokens`). */
    anthropicDefaultMaxTokens?: number;
    /** Told of each refusal. Default: none. */
    observer?: SpendObserver;
  }) {
    this.#ledger = options.ledger;
    this.#accounting = new JobAccounting({ prices: options.prices });
    this.#options = {
      ...options,
      anthropicDefaultMaxTokens: options.anthropicDefaultMaxTokens,
      observer: options.observer,
    };
  }

  /** Reserves the jobs' estimates (`tokens`: the limiter's estimate of each), or refuses them all. */
  async hold(
    tenant: string,
    jobs: ReadonlyArray<{ submission: JobSubmission; tokens: number }>,
  ): Promise<BudgetHold | BudgetRefusal> {
    if (this.#ledger.budgetNano(tenant) === null) return { ok: true, fieldsFor: () => ({}), release: async () => {} };
    const estimates = jobs.map((job) =>
      estimateJobCostNano({
        submission: job.submission,
        tokens: job.tokens,
        catalog: this.#options.catalog,
        prices: this.#options.prices,
        defaultOutputTokens: this.#options.defaultOutputTokens,
        ...(this.#options.anthropicDefaultMaxTokens !== undefined
          ? { anthropicDefaultMaxTokens: this.#options.anthropicDefaultMaxTokens }
          : {}),
      }),
    );
    const total = estimates.reduce((sum, estimate) => sum + estimate, 0);
    const reservation = await this.#ledger.reserve(tenant, total);
    if (!reservation.ok) {
      this.#options.observer?.budgetRefused({ tenant });
      const { status } = reservation;
      const left = Math.max(
        0,
        usdToNano(status.budget_usd) - usdToNano(status.spent_usd) - usdToNano(status.reserved_usd),
      );
      return {
        ok: false,
        message:
          `the monthly budget of ${formatUsd(usdToNano(status.budget_usd))} for ${status.month} would be exceeded: ` +
          `${formatUsd(usdToNano(status.spent_usd))} spent and ${formatUsd(usdToNano(status.reserved_usd))} held by ` +
          `unfinished jobs leave ${formatUsd(left)}, and ${jobs.length === 1 ? 'this job' : 'these jobs'} may cost up to ${formatUsd(total)}`,
        details: { ...status, estimate_usd: nanoToUsd(total) },
      };
    }
    return {
      ok: true,
      fieldsFor: (index): Record<string, string> => {
        const estimate = estimates[index] ?? 0;
        return estimate > 0 ? { [RECORD_FIELD.budgetReserved]: String(estimate) } : {};
      },
      release: () => this.#ledger.release(tenant, total),
    };
  }

  /** Fields and counters for a job the API ends (canceled): its reservation is released. */
  endWithoutAnswer(tenant: string): { fields: Record<string, string | number>; counters: CounterChange[] } {
    return this.#accounting.withoutAnswer(tenant);
  }
}
