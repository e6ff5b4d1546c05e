import { DelayedError, UnrecoverableError } from 'bullmq';
import { RESERVATION_TOLERANCE_MS, type JobLifecycle, type JobRecord } from '@llmq/core';
import type { LimiterGate, LimiterTicket } from '../limiter-gate.js';
import type { JobRun, LlmJobReturn } from './job-run.js';

export type Admission = { record: JobRecord; ticket: LimiterTicket | undefined } | LlmJobReturn;

/**
 * Admits the call under the limiter and starts the record. A job that must wait is parked as
 * delayed with its reservation; one whose turn would come after its deadline fails `timeout` at
 * once and gives its slot back; a call admitted too long before it could start (a starved event
 * loop, a slow Redis) gives its place back and asks again, so late starts cannot bunch up.
 */
export async function admitCall(
  run: JobRun,
  pick: { index: number; model: string; requests: number },
  parts: { gate: LimiterGate; lifecycle: JobLifecycle },
): Promise<Admission> {
  const { data, job } = run;
  const { index, model, requests } = pick;
  const decision = await parts.gate.admit({
    model,
    tenant: run.tenant,
    requests,
    tokens: data.tokens,
    reservation:
      data.reservationAttempt === job.attemptsMade && data.modelIndex === index ? data.reservation : undefined,
  });
  if (!decision.admitted) {
    if (Date.now() + decision.waitMs > data.deadlineAt) {
      await parts.gate.release(decision.ticket);
      await run.end({
        type: 'timeout',
        message: `the job's deadline comes before the rate limit of ${model} has room for it (in ${Math.ceil(decision.waitMs / 1000)} s)`,
      });
      throw new UnrecoverableError('deadline before the limiter has room');
    }
    const patch = {
      modelIndex: index,
      reservation: decision.reservation,
      reservationAttempt: job.attemptsMade,
      // So that a cancel while parked can give the slot back (releaseParkedReservation).
      reservationModel: model,
      reservationRequests: requests,
    };
    if (!(await run.park({ reason: 'rate_limit', waitMs: decision.waitMs, patch, ticket: decision.ticket }))) {
      return { status: 'skipped' };
    }
    throw new DelayedError();
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
    const again = await parts.gate.admit({
      model,
      tenant: run.tenant,
      requests,
      tokens: data.tokens,
      reservation: undefined,
    });
    if (!again.admitted) {
      const patch = {
        modelIndex: index,
        reservation: again.reservation,
        reservationAttempt: job.attemptsMade,
        reservationModel: model,
        reservationRequests: requests,
      };
      const parked = await run.park({
        reason: 'rate_limit',
        waitMs: again.waitMs,
        patch,
        ticket: again.ticket,
        undoAttemptOn: index,
      });
      if (!parked) return { status: 'skipped' };
      throw new DelayedError();
    }
    ticket = again.ticket;
  }
  return { record: start.record, ticket };
}
