import { DelayedError, UnrecoverableError } from 'bullmq';
import { DEFAULT_RANK, RESERVATION_TOLERANCE_MS, type JobLifecycle, type JobRecord } from '@llmq/core';
import type { GateDecision, LimiterGate, LimiterTicket } from '../limiter-gate.js';
import type { JobRun, LlmJobReturn } from './job-run.js';

/** A job waiting for its fair turn is woken when granted; this long at most, it checks anyway. */
const FAIR_RECHECK_MS = 10 * 60_000;

export type Admission = { record: JobRecord; ticket: LimiterTicket | undefined } | LlmJobReturn;

/**
 * Admits the call under the limiter and starts the record. A job that must wait is parked as
 * delayed with its reservation, or until woken when it waits for its fair turn; one whose turn would come after its deadline fails `timeout` at
 * once and gives its slot back; a call admitted too long before it could start (a starved event
 * loop, a slow Redis) gives its place back and asks again, so late starts cannot bunch up.
 */
export async function admitCall(
  run: JobRun,
  pick: { index: number; model: string; requests: number; account?: string | undefined },
  parts: { gate: LimiterGate; lifecycle: JobLifecycle },
): Promise<Admission> {
  const { data, job } = run;
  const { index, model, requests, account } = pick;
  const ask = (reservation: number | undefined) =>
    parts.gate.admit({
      model,
      tenant: run.tenant,
      requests,
      tokens: data.tokens,
      reservation,
      job: { id: run.jobId, rank: data.rank ?? DEFAULT_RANK, timeoutMs: data.attemptTimeoutMs },
      ...(job.attemptsMade === 0 && index === 0 ? { queuedSince: job.timestamp } : {}),
    });
  const decision = await ask(
    data.reservationAttempt === job.attemptsMade && data.modelIndex === index && data.account === account
      ? data.reservation
      : undefined,
  );
  if (!decision.admitted) {
    if (Date.now() + decision.waitMs >= data.deadlineAt) {
      await parts.gate.release(decision.ticket);
      const soonest = `${decision.reason === 'fair_share' ? 'at the soonest ' : ''}in ${Math.ceil(decision.waitMs / 1000)} s`;
      await run.end({
        type: 'timeout',
        message: `the job's deadline comes before the rate limit of ${model} has room for it (${soonest})`,
      });
      throw new UnrecoverableError('deadline before the limiter has room');
    }
    return wait(run, decision, pick, parts);
  }
  let ticket = decision.ticket;
  const admittedAt = Date.now();

  const start = await parts.lifecycle.start({ ...run.ref, at: Date.now(), modelIndex: index, claim: run.token });
  if (start.outcome !== 'started') {
    if (ticket) await parts.gate.release(ticket);
    run.log.info({ outcome: start.outcome }, 'job skipped: no longer runnable');
    return { status: 'skipped' };
  }
  run.claim();

  if (ticket && Date.now() - admittedAt > RESERVATION_TOLERANCE_MS) {
    await parts.gate.release(ticket);
    const again = await ask(undefined);
    if (!again.admitted) return wait(run, again, pick, parts, index);
    ticket = again.ticket;
  }
  return { record: start.record, ticket };
}

/**
 * Parks the job for its turn: until its reservation, or (waiting for its fair turn) until it is
 * woken, its deadline, or a recheck, whichever comes first.
 */
async function wait(
  run: JobRun,
  decision: Extract<GateDecision, { admitted: false }>,
  pick: { index: number; model: string; requests: number; account?: string | undefined },
  parts: { gate: LimiterGate },
  undoAttemptOn?: number,
): Promise<Admission> {
  const fairTurn = decision.reason === 'fair_share';
  const patch = {
    modelIndex: pick.index,
    reservation: decision.reservation,
    reservationAttempt: run.job.attemptsMade,
    // So that a cancel while parked can give the slot back (releaseParkedReservation).
    reservationModel: pick.model,
    reservationRequests: pick.requests,
    // The reservation is on this account's bucket: the job comes back to it.
    ...(pick.account === undefined ? {} : { account: pick.account }),
  };
  const waitMs = fairTurn ? Math.max(0, Math.min(FAIR_RECHECK_MS, run.data.deadlineAt - Date.now())) : decision.waitMs;
  const parked = await run.park({
    reason: decision.reason,
    waitMs,
    patch,
    ticket: decision.ticket,
    ...(undoAttemptOn !== undefined ? { undoAttemptOn } : {}),
    // The soonest its turn can come; it is woken when granted.
    ...(fairTurn ? { earliestStartAt: Date.now() + decision.waitMs } : {}),
  });
  if (!parked) return { status: 'skipped' };
  // Granted between the queue's answer and the park: the waker found it still active, so it wakes itself.
  if (fairTurn && (await parts.gate.granted(decision.ticket))) await run.job.promote().catch(() => undefined);
  throw new DelayedError();
}
