import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { JobEndNotice } from '@llmq/core';
import type { ProviderBatchMetrics } from '../provider-batches/provider-batch-metrics.js';
import type { BoundedLabel } from './bounded-label.js';

const NANO_PER_USD = 1e9;
/** Requests per batch, from a lone job to OpenAI's 50,000. */
const REQUESTS_BUCKETS = [1, 5, 10, 50, 100, 500, 1_000, 5_000, 10_000, 50_000];
/** Seconds from a batch's send to its end: the simulator's seconds to the providers' 24 hours. */
const BATCH_SECONDS_BUCKETS = [1, 5, 15, 60, 300, 900, 1_800, 3_600, 2 * 3_600, 6 * 3_600, 12 * 3_600, 24 * 3_600];

/**
 * The batch path's figures: how jobs got their answer (counted at each end, once), the provider
 * batches this worker sent and saw end, and what the batch price saved.
 */
export class BatchPathMetrics implements ProviderBatchMetrics {
  readonly #models: BoundedLabel;
  readonly #jobPath: Counter<'path'>;
  readonly #sent: Counter<'provider'>;
  readonly #requests: Histogram<'provider'>;
  readonly #duration: Histogram<'provider' | 'status'>;
  readonly #savedUsd: Counter<'model'>;
  readonly #enqueued: Gauge<'model'>;

  constructor(options: { registry: Registry; models: BoundedLabel }) {
    const registers = [options.registry];
    this.#models = options.models;
    this.#jobPath = new Counter({
      name: 'llmq_job_path_total',
      help: 'Job ends by path: batch (answered by a provider batch line), flex (by a flex-tier call after leaving its batch) or sync (every other end)',
      labelNames: ['path'],
      registers,
    });
    this.#sent = new Counter({
      name: 'llmq_provider_batches_sent_total',
      help: 'Provider batches this worker sent (or adopted from a sender that died), by provider',
      labelNames: ['provider'],
      registers,
    });
    this.#requests = new Histogram({
      name: 'llmq_provider_batch_requests',
      help: 'Requests (jobs) per provider batch sent, by provider',
      labelNames: ['provider'],
      buckets: REQUESTS_BUCKETS,
      registers,
    });
    this.#duration = new Histogram({
      name: 'llmq_provider_batch_duration_seconds',
      help: "Provider batches from their send to the poll that saw them end, by provider and the batch's final status",
      labelNames: ['provider', 'status'],
      buckets: BATCH_SECONDS_BUCKETS,
      registers,
    });
    this.#savedUsd = new Counter({
      name: 'llmq_batch_saved_usd_total',
      help: 'What the batch price saved against the listed one, USD, by the model that answered',
      labelNames: ['model'],
      registers,
    });
    this.#enqueued = new Gauge({
      name: 'llmq_provider_batch_enqueued_tokens',
      help: "Prompt tokens a model's provider batches hold at the provider, as this worker last saw them (models with batch_enqueued_tokens)",
      labelNames: ['model'],
      registers,
    });
  }

  /** A job's end (from the outbox, once): its path, and for a batch or flex answer what its price saved. */
  jobEnded(notice: JobEndNotice): void {
    const path = notice.path ?? 'sync';
    this.#jobPath.inc({ path });
    const saved = notice.spend?.savedNano ?? null;
    if (path !== 'sync' && notice.spend && saved !== null && saved > 0) {
      this.#savedUsd.inc({ model: this.#models.of(notice.spend.model) }, saved / NANO_PER_USD);
    }
  }

  batchSent(sent: { provider: string; requests: number }): void {
    this.#sent.inc({ provider: sent.provider });
    this.#requests.observe({ provider: sent.provider }, sent.requests);
  }

  batchEnded(ended: { provider: string; status: string; seconds: number }): void {
    this.#duration.observe({ provider: ended.provider, status: ended.status }, Math.max(0, ended.seconds));
  }

  enqueuedTokens(seen: { model: string; tokens: number }): void {
    this.#enqueued.set({ model: this.#models.of(seen.model) }, seen.tokens);
  }
}
