import { Counter, Histogram, type Registry } from 'prom-client';
import type { BucketParameters } from '@llmq/core';
import type { BoundedLabel } from './bounded-label.js';

/** Seconds from a job's submission to its first provider call: instant to a day-long backlog. */
const QUEUE_WAIT_BUCKETS = [
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
  60,
  300,
  900,
  3_600,
  4 * 3_600,
  86_400,
];

/**
 * Who gets a limited model's capacity: each admitted call's share of it, and how long each
 * tenant's jobs waited for their first call, by tenant and model.
 */
export class FairShareMetrics {
  readonly #models: BoundedLabel;
  readonly #tenants: BoundedLabel;
  readonly #queueWait: Histogram<'model' | 'tenant'>;
  readonly #capacityUsed: Counter<'model' | 'tenant'>;

  constructor(options: { registry: Registry; models: BoundedLabel; tenants: BoundedLabel }) {
    const registers = [options.registry];
    this.#models = options.models;
    this.#tenants = options.tenants;
    this.#queueWait = new Histogram({
      name: 'llmq_queue_wait_by_tenant_seconds',
      help: "Seconds from a job's submission to the admission of its first provider call under the limits, by model and tenant",
      labelNames: ['model', 'tenant'],
      buckets: QUEUE_WAIT_BUCKETS,
      registers,
    });
    this.#capacityUsed = new Counter({
      name: 'llmq_limiter_capacity_used_seconds_total',
      help: "Seconds of a limited model's capacity (its binding limit: requests or tokens) taken by admitted calls, by model and tenant; its rate is the tenant's share (1 = all of the model)",
      labelNames: ['model', 'tenant'],
      registers,
    });
  }

  /** A call admitted: its share of the model's capacity and, for a job's first call, its wait. */
  admitted(call: {
    model: string;
    tenant: string;
    bucket: BucketParameters;
    requests: number;
    tokens: number;
    queuedSince?: number | undefined;
  }): void {
    const labels = { model: this.#models.of(call.model), tenant: this.#tenants.of(call.tenant) };
    const { bucket } = call;
    const ms = Math.max(
      bucket.requestCapacity > 0 ? call.requests / bucket.requestRate : 0,
      bucket.tokenCapacity > 0 ? call.tokens / bucket.tokenRate : 0,
    );
    if (ms > 0) this.#capacityUsed.inc(labels, ms / 1000);
    if (call.queuedSince !== undefined) {
      this.#queueWait.observe(labels, Math.max(0, Date.now() - call.queuedSince) / 1000);
    }
  }
}
