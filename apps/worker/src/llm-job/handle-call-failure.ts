import { UnrecoverableError } from 'bullmq';
import {
  countsAgainstCircuit,
  decideAfterFailure,
  isLastRun,
  RetryLater,
  type AccountRoute,
  type AttemptLogEntry,
  type CircuitChecker,
  type CircuitOutcome,
  type JobLifecycle,
  type ProviderError,
} from '@llmq/core';
import type { LimiterGate, LimiterTicket } from '../limiter-gate.js';
import { LLMQ, toJobError, type JobRun, type LlmJobReturn } from './job-run.js';

export interface FailedCall {
  error: ProviderError;
  model: string;
  /** The circuit the call counts in: the model's, or its account's on it. Default: the model's. */
  circuitName?: string;
  /** The provider account called, and every account serving the model (none without accounts). */
  account?: string | undefined;
  accounts?: readonly AccountRoute[];
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

/** Failures that may be one account's own: its limit, its key, its quota, its endpoint. */
const ACCOUNT_FAULTS: ReadonlySet<ProviderError['kind']> = new Set([
  'rate_limit',
  'authentication',
  'permission',
  'quota_exceeded',
  'overloaded',
  'timeout',
  'connection',
  'provider_error',
]);

/** A refused key or an exhausted quota: the account is out until an operator acts. */
const ACCOUNT_DEAD: ReadonlySet<ProviderError['kind']> = new Set(['authentication', 'permission', 'quota_exceeded']);

/** What the circuit learns of a failed call; undefined: nothing (an answer about the request, not the model). */
function circuitOutcome(call: FailedCall): CircuitOutcome | undefined {
  const { error } = call;
  if (error.kind === 'canceled' || error.provider === LLMQ || call.flex === true) return undefined;
  if (call.account !== undefined && ACCOUNT_DEAD.has(error.kind)) return 'dead';
  return countsAgainstCircuit(error.kind) ? 'failure' : 'success';
}

/**
 * The account a failure that may be its own happened on, when another account of the model is
 * left to try (the chooser picks which, before any retry on this one or fallback to another model).
 */
function accountToLeave(run: JobRun, call: FailedCall): string | undefined {
  const { account } = call;
  if (account === undefined || !ACCOUNT_FAULTS.has(call.error.kind)) return undefined;
  const tried = new Set([...(run.data.avoidAccounts ?? []), account]);
  return call.accounts?.some((route) => !tried.has(route.account)) ? account : undefined;
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
  const outcome = circuitOutcome(call);
  await Promise.all([
    // Only outages count against a model (and a refused key against its account); a 429 or a
    // refused request is an answer, and must also settle a half-open probe instead of leaving it
    // to its lease.
    outcome === undefined ? undefined : parts.circuit.record(call.circuitName ?? model, outcome),
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
  // Another account of the model first: this one's limit, key or endpoint is not the model's.
  const leaving = isLastRun(job.attemptsMade, job.opts.attempts) ? undefined : accountToLeave(run, call);
  if (leaving !== undefined) {
    const requeued = await parts.lifecycle.requeue({
      ...run.ref,
      attempt: call.logEntry('failed', error),
      modelIndex: index,
    });
    if (!requeued) return { status: 'skipped' };
    await job.updateData({ ...data, avoidAccounts: [...(data.avoidAccounts ?? []), leaving] });
    run.log.info({ model, from: leaving, kind: error.kind }, 'moving the call to another account');
    throw new RetryLater(`${error.kind} on account ${leaving}: another account next`, 0);
  }
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
  // A new model, or a new round on this one, may use every account again.
  if (next !== (data.modelIndex ?? 0) || data.avoidAccounts !== undefined) {
    const { avoidAccounts: _tried, ...rest } = data;
    await job.updateData({ ...rest, modelIndex: next });
  }
  throw new RetryLater(`${error.kind}: ${error.message}`, failure.action === 'retry' ? failure.delayMs : 0);
}
