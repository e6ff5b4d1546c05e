import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type {
  CacheLookupEvent,
  CircuitState,
  JobEndNotice,
  JobSpendEvent,
  SpendObserver,
  WebhookDelivery,
} from '@llmq/core';
import type { ProviderBatchMetrics } from '../provider-batches/provider-batch-metrics.js';
import { BatchPathMetrics } from './batch-path-metrics.js';
import { BoundedLabel } from './bounded-label.js';
import { FairShareMetrics } from './fair-share-metrics.js';
import { JobEndMetrics } from './job-end-metrics.js';

const CIRCUIT_STATES: readonly CircuitState[] = ['closed', 'half_open', 'open'];

export interface WorkerMetricsOptions {
  /** Node's process metrics (CPU, memory, event loop, GC). Default: true. */
  processMetrics?: boolean;
  /** Distinct model names kept as labels before the rest count as "other". Default: 200. */
  maxModels?: number;
  /** Distinct tenants kept as labels (per-tenant tokens and cost) before the rest count as "other". Default: 100. */
  maxTenants?: number;
}

const NANO_PER_USD = 1e9;

/**
 * One worker process's Prometheus registry. Every method is an in-memory increment: nothing here
 * touches Redis or the network on the job path. Each worker serves its own on WORKER_METRICS_PORT.
 */
export class WorkerMetrics implements SpendObserver, ProviderBatchMetrics {
  readonly registry = new Registry();
  /** Queue wait by tenant and model, and each tenant's share of each limited model. */
  readonly fairShare: FairShareMetrics;
  readonly #models: BoundedLabel;
  readonly #circuits = new Map<string, CircuitState>();
  readonly #jobsFinished: Counter<'type' | 'status'>;
  readonly #jobEnds: JobEndMetrics;
  readonly #batchPath: BatchPathMetrics;
  readonly #providerCalls: Histogram<'provider' | 'model' | 'account' | 'outcome'>;
  readonly #tokens: Counter<'provider' | 'model' | 'direction'>;
  readonly #limiterWaits: Counter<'model'>;
  readonly #limiterWaitSeconds: Counter<'model'>;
  readonly #limiterWait: Histogram<'model'>;
  readonly #retries: Counter<'model'>;
  readonly #fallbacks: Counter<'model' | 'from'>;
  readonly #inFlight: Gauge<'model'>;
  readonly #rateLimited: Counter<'provider' | 'model'>;
  readonly #webhookDeliveries: Counter<'outcome'>;
  readonly #webhookSeconds: Histogram;
  readonly #circuitState: Gauge<'model' | 'state'>;
  readonly #cacheLookups: Counter<'mode' | 'outcome'>;
  readonly #costUsd: Counter<'model'>;
  readonly #savedUsd: Counter<'model'>;
  readonly #budgetRefusals: Counter;

  constructor(options: WorkerMetricsOptions = {}) {
    const registers = [this.registry];
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    this.#models = new BoundedLabel(options.maxModels ?? 200);
    this.#jobsFinished = new Counter({
      name: 'llmq_jobs_finished_total',
      help: 'Jobs this worker ended, by type and final status (succeeded or failed; cancellations are counted by the API)',
      labelNames: ['type', 'status'],
      registers,
    });
    const tenants = new BoundedLabel(options.maxTenants ?? 100);
    this.#jobEnds = new JobEndMetrics({ registry: this.registry, models: this.#models, tenants });
    this.fairShare = new FairShareMetrics({ registry: this.registry, models: this.#models, tenants });
    this.#batchPath = new BatchPathMetrics({ registry: this.registry, models: this.#models });
    this.#providerCalls = new Histogram({
      name: 'llmq_provider_call_duration_seconds',
      help: 'Provider calls by provider, model, account (empty for a provider without accounts) and outcome ("success" or the error kind: rate_limit, timeout...)',
      labelNames: ['provider', 'model', 'account', 'outcome'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600],
      registers,
    });
    this.#tokens = new Counter({
      name: 'llmq_provider_tokens_total',
      help: 'Tokens of successful provider calls as the provider reported them, by direction (input or output)',
      labelNames: ['provider', 'model', 'account', 'direction'],
      registers,
    });
    this.#limiterWaits = new Counter({
      name: 'llmq_limiter_waits_total',
      help: 'Times a job was parked to wait for its turn under the shared rate limits',
      labelNames: ['model'],
      registers,
    });
    this.#limiterWaitSeconds = new Counter({
      name: 'llmq_limiter_wait_seconds_total',
      help: 'Seconds jobs were scheduled to wait under the shared rate limits',
      labelNames: ['model'],
      registers,
    });
    this.#limiterWait = new Histogram({
      name: 'llmq_limiter_wait_seconds',
      help: 'How long each park under the shared rate limits was scheduled to last (waiting for a fair turn: the soonest it could end), by model',
      labelNames: ['model'],
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600],
      registers,
    });
    this.#retries = new Counter({
      name: 'llmq_retries_total',
      help: 'Provider calls that retried a model a job had already called, by model',
      labelNames: ['model'],
      registers,
    });
    this.#fallbacks = new Counter({
      name: 'llmq_fallbacks_total',
      help: "Provider calls to a job's next model after the one before failed, by that model and the one fallen back from",
      labelNames: ['model', 'from'],
      registers,
    });
    this.#inFlight = new Gauge({
      name: 'llmq_provider_calls_in_flight',
      help: 'Provider calls this worker is running now, by model',
      labelNames: ['model'],
      registers,
    });
    this.#rateLimited = new Counter({
      name: 'llmq_provider_rate_limited_total',
      help: 'Provider calls answered 429 (rate limit), by provider, model and account',
      labelNames: ['provider', 'model', 'account'],
      registers,
    });
    this.#webhookDeliveries = new Counter({
      name: 'llmq_webhook_deliveries_total',
      help: 'Webhook delivery attempts by outcome: delivered, gone (410), refused (address rules) or failed',
      labelNames: ['outcome'],
      registers,
    });
    this.#webhookSeconds = new Histogram({
      name: 'llmq_webhook_delivery_duration_seconds',
      help: 'Time of webhook delivery attempts',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.#circuitState = new Gauge({
      name: 'llmq_circuit_state',
      help: "A model's circuit as this worker last saw it: 1 for its state (closed, half_open, open), 0 for the others",
      labelNames: ['model', 'state'],
      registers,
    });
    this.#cacheLookups = new Counter({
      name: 'llmq_cache_lookups_total',
      help: 'Response cache lookups by mode (exact, semantic; embedding counts inputs) and outcome (hit, miss)',
      labelNames: ['mode', 'outcome'],
      registers,
    });
    this.#costUsd = new Counter({
      name: 'llmq_cost_usd_total',
      help: 'What jobs ended by this worker cost, USD (models without a price are not counted)',
      labelNames: ['model'],
      registers,
    });
    this.#savedUsd = new Counter({
      name: 'llmq_cache_saved_usd_total',
      help: 'What the response cache saved, USD',
      labelNames: ['model'],
      registers,
    });
    this.#budgetRefusals = new Counter({
      name: 'llmq_budget_refusals_total',
      help: 'Jobs refused by a tenant budget in this process',
      registers,
    });
  }

  jobFinished(type: string, status: 'succeeded' | 'failed'): void {
    this.#jobsFinished.inc({ type, status });
  }

  /** A job end the dispatcher read from the outbox: counted once, whichever worker ended the job. */
  jobEnded(notice: JobEndNotice): void {
    if (notice.status !== 'canceled') this.jobFinished(notice.type ?? 'unknown', notice.status);
    // What a batch or flex price saved is the batch path's figure, not the cache's.
    if (notice.spend) {
      this.jobSpend(
        notice.path === undefined || notice.path === 'sync' ? notice.spend : { ...notice.spend, savedNano: 0 },
      );
    }
    this.#jobEnds.observe(notice);
    this.#batchPath.jobEnded(notice);
  }

  batchSent(sent: { provider: string; requests: number }): void {
    this.#batchPath.batchSent(sent);
  }

  batchEnded(ended: { provider: string; status: string; seconds: number }): void {
    this.#batchPath.batchEnded(ended);
  }

  enqueuedTokens(seen: { model: string; tokens: number }): void {
    this.#batchPath.enqueuedTokens(seen);
  }

  /**
   * A provider call starting: counted as a retry when its model was called before for the job,
   * as a fallback when it is the first call to a later model of the chain. Returns its end.
   */
  callStarted(call: { model: string; attemptOnModel: number; fallbackFrom: string | null }): () => void {
    const model = this.#models.of(call.model);
    if (call.attemptOnModel > 1) this.#retries.inc({ model });
    else if (call.fallbackFrom !== null) this.#fallbacks.inc({ model, from: this.#models.of(call.fallbackFrom) });
    this.#inFlight.inc({ model });
    return () => this.#inFlight.dec({ model });
  }

  providerCall(call: {
    provider: string;
    model: string;
    /** The provider account called; absent for a provider without accounts. */
    account?: string | undefined;
    /** "success" or the error kind. */
    outcome: string;
    seconds: number;
    usage?: { input_tokens: number; output_tokens: number };
  }): void {
    const labels = { provider: call.provider, model: this.#models.of(call.model), account: call.account ?? '' };
    this.#providerCalls.observe({ ...labels, outcome: call.outcome }, call.seconds);
    if (call.outcome === 'rate_limit') this.#rateLimited.inc(labels);
    if (call.usage) {
      this.#tokens.inc({ ...labels, direction: 'input' }, call.usage.input_tokens);
      this.#tokens.inc({ ...labels, direction: 'output' }, call.usage.output_tokens);
    }
  }

  limiterWait(model: string, waitMs: number): void {
    const label = this.#models.of(model);
    this.#limiterWaits.inc({ model: label });
    this.#limiterWaitSeconds.inc({ model: label }, Math.max(0, waitMs) / 1000);
    this.#limiterWait.observe({ model: label }, Math.max(0, waitMs) / 1000);
  }

  webhookDelivery(delivery: Pick<WebhookDelivery, 'outcome' | 'duration_ms'>): void {
    this.#webhookDeliveries.inc({ outcome: delivery.outcome });
    this.#webhookSeconds.observe(delivery.duration_ms / 1000);
  }

  circuit(model: string, state: CircuitState): void {
    const label = this.#models.of(model);
    if (this.#circuits.get(label) === state) return;
    this.#circuits.set(label, state);
    for (const each of CIRCUIT_STATES) this.#circuitState.set({ model: label, state: each }, each === state ? 1 : 0);
  }

  cacheLookup(event: CacheLookupEvent): void {
    if (event.hits > 0) this.#cacheLookups.inc({ mode: event.mode, outcome: 'hit' }, event.hits);
    if (event.misses > 0) this.#cacheLookups.inc({ mode: event.mode, outcome: 'miss' }, event.misses);
  }

  jobSpend(event: JobSpendEvent): void {
    const model = this.#models.of(event.model);
    if (event.costNano !== null) this.#costUsd.inc({ model }, event.costNano / NANO_PER_USD);
    if (event.savedNano !== null && event.savedNano > 0) this.#savedUsd.inc({ model }, event.savedNano / NANO_PER_USD);
  }

  budgetRefused(): void {
    this.#budgetRefusals.inc();
  }
}
