import {
  formatModelName,
  ProviderError,
  WebhookDeliveryLog,
  type CallOptions,
  type CircuitChecker,
  type JobRecord,
  type JobUsage,
  type ModelReference,
  type WebhookDelivery,
  type WebhookStatus,
} from '@llmq/core';
import { LimiterGate, type GateDecision } from '../limiter-gate.js';
import type { WorkerMetrics } from './worker-metrics.js';

// The worker's parts, each measured from outside: the processor itself holds no metrics code.

type ProviderCall<Outcome> = (
  record: JobRecord,
  target: { reference: ModelReference; account?: string | undefined },
  options: CallOptions,
) => Promise<Outcome>;

/** Provider calls: latency by outcome, tokens, 429s, calls in flight, retries and fallbacks. */
export function meterProviderCall<Outcome extends { usage: JobUsage }>(
  call: ProviderCall<Outcome>,
  metrics: WorkerMetrics,
): ProviderCall<Outcome> {
  return async (record, target, options) => {
    const started = performance.now();
    const { reference, account } = target;
    const labels = { provider: reference.provider, model: formatModelName(reference), account };
    // The record as its start left it: this call is counted on its model, the log holds the calls before.
    const callEnded = metrics.callStarted({
      model: labels.model,
      attemptOnModel: record.modelAttempts,
      fallbackFrom: record.modelIndex > 0 ? (record.attemptLog.at(-1)?.model ?? null) : null,
    });
    try {
      const outcome = await call(record, target, options);
      const seconds = (performance.now() - started) / 1000;
      metrics.providerCall({ ...labels, outcome: 'success', seconds, usage: outcome.usage });
      return outcome;
    } catch (error) {
      const outcome = error instanceof ProviderError ? error.kind : 'provider_error';
      metrics.providerCall({ ...labels, outcome, seconds: (performance.now() - started) / 1000 });
      throw error;
    } finally {
      callEnded();
    }
  };
}

/**
 * The limiter: every park of a job for its turn and how long it was told to wait; each admitted
 * call's share of its model, and a job's wait for its first call.
 */
export class MeteredLimiterGate extends LimiterGate {
  readonly #metrics: WorkerMetrics;

  constructor(options: ConstructorParameters<typeof LimiterGate>[0] & { metrics: WorkerMetrics }) {
    super(options);
    this.#metrics = options.metrics;
  }

  override async admit(options: Parameters<LimiterGate['admit']>[0]): Promise<GateDecision> {
    const decision = await super.admit(options);
    if (!decision.admitted) {
      // A call with no job to park (refused) does not wait.
      if (decision.ticket.callId !== '') this.#metrics.limiterWait(options.model, decision.waitMs);
    } else if (decision.ticket) {
      this.#metrics.fairShare.admitted({
        ...options,
        bucket: decision.ticket.limits.model,
        queuedSince: options.queuedSince,
      });
    }
    return decision;
  }
}

/** The circuit breaker: each model's state as this worker last saw it. */
export function meterCircuit(circuit: CircuitChecker, metrics: WorkerMetrics): CircuitChecker {
  return {
    async check(model) {
      const verdict = await circuit.check(model);
      metrics.circuit(model, verdict.state);
      return verdict;
    },
    async record(model, outcome) {
      const state = await circuit.record(model, outcome);
      if (state !== undefined) metrics.circuit(model, state);
      return state;
    },
  };
}

/** The webhook delivery log: every attempt recorded, by outcome and time. */
export class MeteredWebhookDeliveryLog extends WebhookDeliveryLog {
  readonly #metrics: WorkerMetrics;

  constructor(redis: ConstructorParameters<typeof WebhookDeliveryLog>[0], metrics: WorkerMetrics) {
    super(redis);
    this.#metrics = metrics;
  }

  override async record(tenant: string, jobId: string, status: WebhookStatus, delivery: WebhookDelivery) {
    const recorded = await super.record(tenant, jobId, status, delivery);
    this.#metrics.webhookDelivery(delivery);
    return recorded;
  }
}
