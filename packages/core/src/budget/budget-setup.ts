import type { Redis } from 'ioredis';
import type { ModelCatalog } from '../catalog/model-catalog.js';
import type { LlmqConfig } from '../config/llmq-config-schema.js';
import { PriceTable } from '../cost/price-table.js';
import { SpendCounters, type SpendObserver } from '../cost/spend-observer.js';
import { BudgetGuard } from './budget-guard.js';
import { BudgetLedger } from './budget-ledger.js';

/** What the API needs for budgets, usage reports and semantic-cache checks, from the config file. */
export interface ApiSpendSetup {
  ledger: BudgetLedger;
  budget: BudgetGuard;
  /** Whether the config has `cache.semantic`, so jobs may ask for mode "semantic". */
  semanticCache: boolean;
  /** Budget refusals so far, per tenant, for /metrics. */
  counters: SpendCounters;
}

export function createApiSpendSetup(options: {
  redis: Redis;
  config: Pick<LlmqConfig, 'budgets' | 'prices' | 'cache' | 'default_output_tokens' | 'anthropic_default_max_tokens'>;
  catalog: ModelCatalog;
  /** Told of budget refusals too. Default: only `counters`. */
  observer?: SpendObserver;
}): ApiSpendSetup {
  const { config } = options;
  const counters = new SpendCounters();
  const observer = options.observer;
  const ledger = new BudgetLedger({ redis: options.redis, budgets: config.budgets });
  const budget = new BudgetGuard({
    ledger,
    prices: new PriceTable({ configured: config.prices }),
    catalog: options.catalog,
    defaultOutputTokens: config.default_output_tokens,
    anthropicDefaultMaxTokens: config.anthropic_default_max_tokens,
    observer: {
      cacheLookup: () => {},
      jobSpend: () => {},
      budgetRefused: (event) => {
        counters.budgetRefused(event);
        observer?.budgetRefused(event);
      },
    },
  });
  return { ledger, budget, semanticCache: config.cache.semantic !== undefined, counters };
}
