import { trace } from '@opentelemetry/api';
import type { Job } from 'bullmq';
import {
  addSpanEvent,
  inSpan,
  markSpanFailed,
  traceFields,
  untilRedisTakesIt,
  type AttemptLogEntry,
  type JobError,
  type JobLifecycle,
  type LlmJobData,
  type Logger,
  type ProviderError,
  type WaitReason,
} from '@llmq/core';
import type { JobSpendHooks } from '../cache/job-spend-hooks.js';
import type { LimiterGate, LimiterTicket } from '../limiter-gate.js';

/** What BullMQ keeps as the job's return value; the result itself lives in the job record. */
export interface LlmJobReturn {
  status: 'succeeded' | 'failed' | 'skipped';
}

/** `ProviderError.provider` of failures that are llmq's, not a provider's. */
export const LLMQ = 'llmq';

/** The job's error; llmq's own (a deadline, a model the config no longer serves) names no provider. */
export function toJobError(error: ProviderError): JobError {
  return {
    type: error.kind,
    message: error.message,
    ...(error.provider !== LLMQ ? { provider: error.provider } : {}),
    ...(error.status !== undefined ? { status: error.status } : {}),
  };
}

/**
 * One run of one job: what every step needs (the BullMQ job, its lock token and signal, the
 * lifecycle) and the two writes any step may make, ending the job and parking it. Once the run
 * has started the record (`claim`), its writes name its lock token, so a run that lost the job
 * to another worker cannot write.
 */
export class JobRun {
  readonly data: LlmJobData;
  readonly tenant: string;
  readonly jobId: string;
  readonly log: Logger;
  #owner: { run?: string } = {};

  constructor(
    readonly job: Job<LlmJobData>,
    readonly token: string | undefined,
    readonly signal: AbortSignal | undefined,
    readonly parts: {
      lifecycle: JobLifecycle;
      gate: LimiterGate;
      spend?: JobSpendHooks | undefined;
      logger: Logger;
      /** How long an end is kept and retried while Redis refuses writes, ms. */
      redisPatienceMs: number;
      /** Pause before a run that Redis refused runs again, ms. */
      redisRetryDelayMs: number;
    },
  ) {
    this.data = job.data;
    this.tenant = job.data.tenant;
    this.jobId = job.data.jobId;
    this.log = parts.logger.child({ jobId: this.jobId, tenant: this.tenant, attempt: job.attemptsMade + 1 });
  }

  /** The record's writes, fenced by this run once it has claimed the job. */
  get ref() {
    return { tenant: this.tenant, jobId: this.jobId, ...this.#owner };
  }

  /** After a successful start: later writes name this run. */
  claim(): void {
    if (this.token !== undefined) this.#owner = { run: this.token };
  }

  /** Fails the job with a classified error; the end is announced by the transition (the outbox). */
  async end(error: JobError, attempt?: AttemptLogEntry): Promise<LlmJobReturn> {
    // The run's span says the job failed, and why; the result write has a span of its own, whose
    // trace context goes on the end's notice (webhook).
    const runSpan = trace.getActiveSpan();
    if (runSpan) markSpanFailed(runSpan, error.type);
    const attributes = { 'llmq.job.id': this.jobId, 'llmq.job.error.type': error.type };
    const outcome = await inSpan('llmq.job.fail', { attributes }, () =>
      untilRedisTakesIt(
        () =>
          this.parts.lifecycle.fail({
            ...this.ref,
            error,
            at: Date.now(),
            ...(attempt ? { attempt } : {}),
            details: { type: this.data.type, ...traceFields() },
          }),
        { maxMs: this.parts.redisPatienceMs },
      ),
    );
    this.log.warn({ kind: error.type, err: error.message }, 'job failed');
    return { status: outcome === 'ended' ? 'failed' : 'skipped' };
  }

  /**
   * Puts the job back as delayed, held back for `reason`, with `patch` in its queue data. False
   * (and the ticket's reservation given back) when the job is no longer this run's to park.
   */
  async park(options: {
    reason: WaitReason;
    waitMs: number;
    patch: Partial<LlmJobData>;
    ticket?: LimiterTicket | undefined;
    undoAttemptOn?: number;
    /** What the record shows as the earliest start; default: the end of the wait. */
    earliestStartAt?: number;
  }): Promise<boolean> {
    const wakeAt = Date.now() + options.waitMs;
    const parked = await this.parts.lifecycle.park({
      ...this.ref,
      reason: options.reason,
      earliestStartAt: options.earliestStartAt ?? wakeAt,
      ...(options.undoAttemptOn !== undefined ? { undoAttemptOn: options.undoAttemptOn } : {}),
    });
    if (!parked) {
      if (options.ticket) await this.parts.gate.release(options.ticket);
      return false;
    }
    await this.job.updateData({ ...this.data, ...options.patch });
    await this.job.moveToDelayed(wakeAt, this.token);
    // One event per park on the run's span: the wait (to the earliest start) and its reason.
    const waitMs = Math.max(0, (options.earliestStartAt ?? wakeAt) - Date.now());
    addSpanEvent('llmq.job.parked', { 'llmq.wait.reason': options.reason, 'llmq.wait.ms': waitMs });
    this.log.debug({ reason: options.reason, waitMs }, 'job parked');
    return true;
  }
}
