import type { AttemptLogEntry, JobError, JobStatus, JobUsage, WaitReason } from '../jobs/job-object.js';
import { isEnded } from '../jobs/job-object.js';
import type { ChatCompletionResult, EmbeddingResult } from '../providers/chat-completion.js';
import { endWithoutAnswer } from '../cost/job-accounting.js';
import type { JobSpendEvent } from '../cost/spend-observer.js';
import { noticeClockFields, noticeFields, type JobEndDetails } from './job-end-notice.js';
import { RECORD_FIELD } from './job-record-fields.js';
import type { CounterChange, JobRecord, JobStore, TransitionOutcome } from './job-store.js';

const FIELD = RECORD_FIELD;

const increment = (field: string) => `+${field}`;
const setIfAbsent = (field: string) => `?${field}`;
const remove = (field: string) => `-${field}`;
const append = (field: string) => `>${field}`;

// The `+`, `?`, `-` and `>` operators of transition-job.lua are this file's business: callers say
// what happened, not which field changes how.

/** A job by its owner. */
export interface JobRef {
  tenant: string;
  jobId: string;
  /**
   * The run (its BullMQ lock token) that owns the job; once a run has started the job, its
   * writes name it, and a run another worker took the job from cannot write. Default: any.
   */
  run?: string | undefined;
}

/** Cost fields and counters written with an end, and the spend event for the metrics (see the cost module). */
export interface Ledger {
  fields?: Record<string, string | number>;
  counters?: readonly CounterChange[] | undefined;
  event?: JobSpendEvent | null;
}

/** An end's fields and counters: its ledger (by default, nothing charged and the budget released) and its notice. */
function endWrites(ref: JobRef & { at: number }, ledger: Ledger | undefined, details: JobEndDetails | undefined) {
  const money = ledger ?? endWithoutAnswer(ref.tenant);
  const spend = money.event ? { spend: money.event } : {};
  const clock = noticeClockFields(ref.at, {
    model: FIELD.model,
    createdAt: FIELD.createdAt,
    startedAt: FIELD.startedAt,
  });
  return {
    fields: { ...money.fields, ...noticeFields({ ...details, ...spend }), ...clock },
    counters: money.counters,
  };
}

export type StartOutcome =
  | { outcome: 'started'; record: JobRecord }
  /** An earlier run ended it (and may have died before announcing it). */
  | { outcome: 'ended'; status: JobStatus }
  /** Missing, or another run owns it. */
  | { outcome: 'gone' };

export type EndOutcome = 'ended' | 'already-ended' | 'gone';

const OPEN: readonly JobStatus[] = ['queued', 'running'];

function ended(outcome: TransitionOutcome): EndOutcome {
  if (outcome.outcome === 'ok') return 'ended';
  return outcome.outcome === 'conflict' && isEnded(outcome.current) ? 'already-ended' : 'gone';
}

const fence = (ref: JobRef) => (ref.run !== undefined ? { run: ref.run } : {});

/**
 * The one owner of a job record's transitions: start, park, requeue, succeed, fail and cancel,
 * each atomic (one Lua script) and each with a typed outcome. Apps call these verbs; none writes
 * record fields itself.
 */
export class JobLifecycle {
  constructor(readonly store: JobStore) {}

  /**
   * queued or running -> running. `modelIndex` counts a provider attempt on that model (a cache
   * hit counts none); `claim` makes the run the record's owner.
   */
  async start(ref: JobRef & { at: number; modelIndex?: number; claim?: string | undefined }): Promise<StartOutcome> {
    const attempt: Record<string, number> =
      ref.modelIndex === undefined
        ? {}
        : {
            [increment(FIELD.attempts)]: 1,
            [increment(FIELD.modelAttempts(ref.modelIndex))]: 1,
            [FIELD.modelIndex]: ref.modelIndex,
          };
    const claim: Record<string, string> = ref.claim !== undefined ? { [FIELD.run]: ref.claim } : {};
    const outcome = await this.store.transition({
      tenant: ref.tenant,
      jobId: ref.jobId,
      to: 'running',
      // `running` too: a job whose worker died is picked up again by another one.
      from: OPEN,
      fields: {
        ...attempt,
        [setIfAbsent(FIELD.startedAt)]: ref.at,
        [remove(FIELD.waitingFor)]: '',
        [remove(FIELD.earliestStartAt)]: '',
        ...claim,
      },
      returnRecord: true,
    });
    if (outcome.outcome === 'ok' && outcome.record !== null) return { outcome: 'started', record: outcome.record };
    if (outcome.outcome === 'conflict' && isEnded(outcome.current))
      return { outcome: 'ended', status: outcome.current };
    return { outcome: 'gone' };
  }

  /**
   * queued or running -> queued, held back for `reason` until `earliestStartAt` (ms).
   * `undoAttemptOn` takes back the attempt a start counted on that model (a call that never went).
   */
  async park(ref: JobRef & { reason: WaitReason; earliestStartAt: number; undoAttemptOn?: number }): Promise<boolean> {
    const undo =
      ref.undoAttemptOn === undefined
        ? {}
        : { [increment(FIELD.attempts)]: -1, [increment(FIELD.modelAttempts(ref.undoAttemptOn))]: -1 };
    const outcome = await this.store.transition({
      ...fence(ref),
      tenant: ref.tenant,
      jobId: ref.jobId,
      to: 'queued',
      from: OPEN,
      fields: { ...undo, [FIELD.waitingFor]: ref.reason, [FIELD.earliestStartAt]: ref.earliestStartAt },
    });
    return outcome.outcome === 'ok';
  }

  /** queued -> queued: a deferrable job's provider batch was sent; the job shows its id and time. */
  async noteProviderBatch(ref: JobRef & { batchId: string; sentAt: number }): Promise<boolean> {
    const outcome = await this.store.transition({
      tenant: ref.tenant,
      jobId: ref.jobId,
      to: 'queued',
      from: ['queued'],
      fields: {
        [FIELD.waitingFor]: 'provider_batch',
        [FIELD.providerBatchId]: ref.batchId,
        [FIELD.providerBatchSentAt]: ref.sentAt,
      },
    });
    return outcome.outcome === 'ok';
  }

  /** running -> queued after a failed call, logged; the next try goes to `modelIndex`. */
  async requeue(ref: JobRef & { attempt: AttemptLogEntry; modelIndex: number }): Promise<boolean> {
    const outcome = await this.store.transition({
      ...fence(ref),
      tenant: ref.tenant,
      jobId: ref.jobId,
      to: 'queued',
      from: ['running'],
      fields: { [append(FIELD.attemptLog)]: JSON.stringify(ref.attempt), [FIELD.modelIndex]: ref.modelIndex },
    });
    return outcome.outcome === 'ok';
  }

  /** running -> succeeded with the answer. */
  async succeed(
    ref: JobRef & {
      result: ChatCompletionResult | EmbeddingResult;
      usage: JobUsage;
      answeredBy: string;
      /** The provider account that answered, for a provider with accounts. */
      account?: string | undefined;
      at: number;
      /** The call that answered; a cache hit has none. */
      attempt?: AttemptLogEntry;
      ledger?: Ledger;
      details?: JobEndDetails;
    },
  ): Promise<boolean> {
    const writes = endWrites(ref, ref.ledger, ref.details);
    const outcome = await this.store.transition({
      ...fence(ref),
      tenant: ref.tenant,
      jobId: ref.jobId,
      to: 'succeeded',
      from: ['running'],
      fields: {
        ...writes.fields,
        [FIELD.result]: JSON.stringify(ref.result),
        [FIELD.usage]: JSON.stringify(ref.usage),
        [FIELD.answeredBy]: ref.answeredBy,
        ...(ref.account === undefined ? {} : { [FIELD.account]: ref.account }),
        [FIELD.finishedAt]: ref.at,
        ...(ref.attempt ? { [append(FIELD.attemptLog)]: JSON.stringify(ref.attempt) } : {}),
      },
      counters: writes.counters,
    });
    return outcome.outcome === 'ok';
  }

  /** queued or running -> failed with a classified error. */
  async fail(
    ref: JobRef & {
      error: JobError;
      at: number;
      attempt?: AttemptLogEntry;
      ledger?: Ledger;
      details?: JobEndDetails;
    },
  ): Promise<EndOutcome> {
    const writes = endWrites(ref, ref.ledger, ref.details);
    return ended(
      await this.store.transition({
        ...fence(ref),
        tenant: ref.tenant,
        jobId: ref.jobId,
        to: 'failed',
        from: OPEN,
        fields: {
          ...writes.fields,
          [FIELD.error]: JSON.stringify(ref.error),
          [FIELD.finishedAt]: ref.at,
          [remove(FIELD.waitingFor)]: '',
          ...(ref.attempt ? { [append(FIELD.attemptLog)]: JSON.stringify(ref.attempt) } : {}),
        },
        counters: writes.counters,
      }),
    );
  }

  /** queued or running -> canceled by the client; `conflict` carries the status it had ended with. */
  async cancel(ref: JobRef & { at: number; ledger?: Ledger; details?: JobEndDetails }): Promise<TransitionOutcome> {
    const writes = endWrites(ref, ref.ledger, ref.details);
    return this.store.transition({
      tenant: ref.tenant,
      jobId: ref.jobId,
      to: 'canceled',
      from: OPEN,
      fields: {
        ...writes.fields,
        [FIELD.finishedAt]: ref.at,
        [FIELD.error]: JSON.stringify({ type: 'canceled', message: 'canceled by the client' } satisfies JobError),
        [remove(FIELD.waitingFor)]: '',
      },
      counters: writes.counters,
    });
  }
}
