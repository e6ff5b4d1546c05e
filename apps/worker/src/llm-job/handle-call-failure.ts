import { UnrecoverableError } from 'bullmq';
import {
  countsAgainstCircuit,
  decideAfterFailure,
  isLastRun,
  RetryLater,
  type AttemptLogEntry,
  type CircuitChecker,
  type JobLifecycle,
  type ProviderError,
} from '@llmq/core';
import type { LimiterGate, LimiterTicket } from '../limiter-gate.js';
import { LLMQ, toJobError, type JobRun, type LlmJobReturn } from './job-run.js';

export interface FailedCall {
  error: ProviderError;
  model: string;
  index: number;
  /** Models in the job's chain. */
  chainLength: number;
  /** Calls made to the model at `index`, this one included. */
  attemptOnModel: number;
  ticket: LimiterTicket | undefined;
  headers: Headers | undefined;
  /** The attempt-log entry of this call. */
  logEntry: (status: AttemptLogEntry['status'], error?: ProviderError) => AttemptLogEntry;
  /** Whether the client canceled the job (its call was aborted for it). */
  canceled: boolean;
  /** A call at the flex tier: its failure says nothing of the model's health at the standard tier. */
  flex?: boolean;
}

/**
 * After a failed provider call (and only then: a hook or a store error after a successful call
 * must never count against the model or repeat the call): records it against the circuit and the
 * limiter, then retries the same model, falls back, or fails the job, as `decideAfterFailure`
 * and the attempt budget say.
 */
export async function handleCallFailure(
  run: JobRun,
  call: FailedCall,
  parts: { circuit: CircuitChecker; gate: LimiterGate; lifecycle: JobLifecycle },
): Promise<LlmJobReturn> {
  const { error, model, index, ticket, headers } = call;
  await Promise.all([
    // Only outages count against a model; a 429 or a refused request is an answer, and must also
    // settle a half-open probe instead of leaving it to its lease.
    error.kind === 'canceled' || error.provider === LLMQ || call.flex === true
      ? undefined
      : parts.circuit.record(model, countsAgainstCircuit(error.kind) ? 'failure' : 'success'),
    ticket ? parts.gate.settle(ticket, { error, ...(headers ? { headers } : {}) }) : undefined,
  ]).catch((recordError: unknown) => run.log.warn({ err: recordError }, 'could not record the call'));
  run.log.warn({ model, kind: error.kind, status: error.status, err: error.message }, 'provider call failed');
  if (error.kind === 'canceled' && call.canceled) return { status: 'skipped' };
  if (run.signal?.aborted) {
    // Another worker owns the job now; this run writes nothing more.
    run.log.warn({ model }, 'the run lost its lock: its call was aborted');
    return { status: 'skipped' };
  }

  const { data, job } = run;
  const failure = isLastRun(job.attemptsMade, job.opts.attempts)
    ? ({ action: 'fail' } as const)
    : decideAfterFailure(
        {
          error,
          attemptOnModel: call.attemptOnModel,
          hasFallback: index + 1 < call.chainLength,
          remainingMs: data.deadlineAt - Date.now(),
        },
        { attemptsPerModel: data.attemptsPerModel, baseDelayMs: 1_000, maxDelayMs: 60_000 },
      );
  if (failure.action === 'fail') {
    await run.end(toJobError(error), call.logEntry('failed', error));
    throw new UnrecoverableError(`${error.kind}: ${error.message}`);
  }
  const next = failure.action === 'fallback' ? index + 1 : index;
  const requeued = await parts.lifecycle.requeue({
    ...run.ref,
    attempt: call.logEntry('failed', error),
    modelIndex: next,
  });
  if (!requeued) return { status: 'skipped' };
  if (next !== (data.modelIndex ?? 0)) await job.updateData({ ...data, modelIndex: next });
  throw new RetryLater(`${error.kind}: ${error.message}`, failure.action === 'retry' ? failure.delayMs : 0);
}
