import type { LlmJobData } from '../queue/llm-queue.js';
import type { LimitRules } from './limit-rules.js';
import type { RateLimiter } from './rate-limiter.js';

/**
 * Gives back the limiter slot a parked job reserved, for a job that ended before its turn came
 * (canceled while it waited), so the jobs behind it move up. Only for a parked job no worker
 * holds (the caller removed it from the queue); true when a reservation was given back.
 */
export async function releaseParkedReservation(options: {
  limiter: RateLimiter;
  rules: LimitRules;
  data: LlmJobData;
  /** BullMQ's `attemptsMade` of the job: a reservation of an earlier attempt is stale. */
  attemptsMade: number;
}): Promise<boolean> {
  const { data } = options;
  if (data.reservationModel === undefined || data.reservationAttempt !== options.attemptsMade) return false;
  const limits = options.rules.forModel(data.reservationModel, data.tenant);
  if (limits === undefined) return false;
  if (limits.fair) {
    // Its place in the fair queue or its granted slot; the workers' next tick grants the slot anew.
    const callId = data.jobId;
    await options.limiter.fairRelease({
      model: data.reservationModel,
      tenant: data.tenant,
      limits,
      callId,
      refund: true,
      dispatch: false,
    });
    return true;
  }
  if (data.reservation === undefined) return false;
  const requests = data.reservationRequests ?? 1;
  await options.limiter.adjust({
    model: data.reservationModel,
    tenant: data.tenant,
    limits,
    requestCorrection: -requests,
    tokenCorrection: -data.tokens,
  });
  return true;
}
