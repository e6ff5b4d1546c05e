import { Counter, Histogram, type Registry } from 'prom-client';
import type { JobEndNotice } from '@llmq/core';
import type { BoundedLabel } from './bounded-label.js';

/** Seconds, from a cache hit's milliseconds to a day-long deferrable job. */
const JOB_SECONDS_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600, 4 * 3600, 24 * 3600];
const NANO_PER_USD = 1e9;

/**
 * What each job's end says, counted once by the worker whose dispatcher read it from the outbox:
 * how long the job took and waited, by the model it asked for and how it ended, and what it used
 * and cost per tenant.
 */
export class JobEndMetrics {
  readonly #models: BoundedLabel;
  readonly #tenants: BoundedLabel;
  readonly #duration: Histogram<'model' | 'type' | 'outcome'>;
  readonly #queueWait: Histogram<'model' | 'type' | 'outcome'>;
  readonly #tenantTokens: Counter<'tenant' | 'direction'>;
  readonly #tenantCost: Counter<'tenant'>;
  readonly #accountTokens: Counter<'model' | 'account' | 'direction'>;
  readonly #accountCost: Counter<'model' | 'account'>;

  constructor(options: { registry: Registry; models: BoundedLabel; tenants: BoundedLabel }) {
    const registers = [options.registry];
    this.#models = options.models;
    this.#tenants = options.tenants;
    this.#duration = new Histogram({
      name: 'llmq_job_duration_seconds',
      help: 'Jobs from submission to their end, by the model asked for, type and outcome (succeeded, failed, canceled)',
      labelNames: ['model', 'type', 'outcome'],
      buckets: JOB_SECONDS_BUCKETS,
      registers,
    });
    this.#queueWait = new Histogram({
      name: 'llmq_queue_wait_seconds',
      help: 'Jobs from submission to their first start by a worker (queue and limiter waits), observed at their end, by model, type and outcome',
      labelNames: ['model', 'type', 'outcome'],
      buckets: JOB_SECONDS_BUCKETS,
      registers,
    });
    this.#tenantTokens = new Counter({
      name: 'llmq_tenant_tokens_total',
      help: 'Tokens of ended jobs by tenant and direction (input, output), as charged; tenants past the label cap are "other"',
      labelNames: ['tenant', 'direction'],
      registers,
    });
    this.#tenantCost = new Counter({
      name: 'llmq_tenant_cost_usd_total',
      help: 'What ended jobs cost by tenant, USD (models without a price are not counted); tenants past the label cap are "other"',
      labelNames: ['tenant'],
      registers,
    });
    this.#accountTokens = new Counter({
      name: 'llmq_account_tokens_total',
      help: 'Tokens of jobs answered through a provider account, as charged, by the model that answered, account and direction (input, output)',
      labelNames: ['model', 'account', 'direction'],
      registers,
    });
    this.#accountCost = new Counter({
      name: 'llmq_account_cost_usd_total',
      help: 'What jobs answered through a provider account cost, USD, by the model that answered and account (models without a price are not counted)',
      labelNames: ['model', 'account'],
      registers,
    });
  }

  observe(notice: JobEndNotice): void {
    const labels = {
      model: notice.model === null ? 'unknown' : this.#models.of(notice.model),
      type: notice.type ?? 'unknown',
      outcome: notice.status,
    };
    const { createdAt, startedAt, finishedAt } = notice;
    if (createdAt !== null && finishedAt !== null) {
      this.#duration.observe(labels, Math.max(0, finishedAt - createdAt) / 1000);
    }
    // A job that never started (canceled or timed out while queued) has no queue wait to tell.
    if (createdAt !== null && startedAt !== null) {
      this.#queueWait.observe(labels, Math.max(0, startedAt - createdAt) / 1000);
    }
    const spend = notice.spend;
    if (spend) {
      const tenant = this.#tenants.of(spend.tenant);
      this.#tenantTokens.inc({ tenant, direction: 'input' }, spend.inputTokens);
      this.#tenantTokens.inc({ tenant, direction: 'output' }, spend.outputTokens);
      if (spend.costNano !== null) this.#tenantCost.inc({ tenant }, spend.costNano / NANO_PER_USD);
      if (notice.account !== undefined) this.#perAccount(notice.account, spend);
    }
  }

  /** Accounts are few and named in the config: their label needs no cap. */
  #perAccount(account: string, spend: NonNullable<JobEndNotice['spend']>): void {
    const labels = { model: this.#models.of(spend.model), account };
    this.#accountTokens.inc({ ...labels, direction: 'input' }, spend.inputTokens);
    this.#accountTokens.inc({ ...labels, direction: 'output' }, spend.outputTokens);
    if (spend.costNano !== null) this.#accountCost.inc(labels, spend.costNano / NANO_PER_USD);
  }
}
