import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import {
  countsAgainstCircuit,
  decideAfterFailure,
  formatModelName,
  ProviderError,
  RetryLater,
  type AttemptLogEntry,
  type CircuitChecker,
  type JobError,
  type JobStore,
  type LlmJobData,
  type Logger,
  type WaitReason,
  RESERVATION_TOLERANCE_MS,
  isRedisUnavailable,
  JobLifecycle,
  untilRedisTakesIt,
} from '@llmq/core';
import type { JobSpendHooks } from './cache/job-spend-hooks.js';
import type { CancelRegistry } from './cancel-registry.js';
import type { LimiterGate, LimiterTicket } from './limiter-gate.js';
import type { ModelRouter } from './model-router.js';
import type { createProviderCall } from './provider-call.js';

export interface LlmJobProcessorOptions {
  store: JobStore;
  router: ModelRouter;
  gate: LimiterGate;
  circuit: CircuitChecker;
  cancels: CancelRegistry;
  callProvider: ReturnType<typeof createProviderCall>;
  logger: Logger;
  /** Longest silence between two streamed chunks, ms. */
  streamIdleTimeoutMs: number;
  /** Costs on each job's end, and the response cache. Default: none (no costs kept, nothing cached). */
  spend?: JobSpendHooks;
}

/** What BullMQ keeps as the job's return value; the result itself lives in the job record. */
export interface LlmJobReturn {
  status: 'succeeded' | 'failed' | 'skipped';
}

/** The job's error; llmq's own (a deadline, a model the config no longer serves) names no provider. */
function toJobError(error: ProviderError): JobError {
  return {
    type: error.kind,
    message: error.message,
    ...(error.provider !== LLMQ ? { provider: error.provider } : {}),
    ...(error.status !== undefined ? { status: error.status } : {}),
  };
}

/** `ProviderError.provider` of failures that are llmq's, not a provider's. */
const LLMQ = 'llmq';

/** Pause before a run that Redis refused is tried again, ms; it uses none of the job's attempts. */
const REDIS_RETRY_DELAY_MS = 2_000;

/** Control flow BullMQ must see as thrown: everything else is classified here first. */
function isQueueControl(error: unknown): boolean {
  return error instanceof DelayedError || error instanceof UnrecoverableError || error instanceof RetryLater;
}

function asProviderError(error: unknown): ProviderError {
  if (error instanceof ProviderError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ProviderError({ provider: 'llmq', kind: 'provider_error', message, cause: error });
}

/**
 * The BullMQ processor of the LLM queue: deadline -> circuit -> limiter -> provider call ->
 * record, with `decideAfterFailure` choosing between retry, fallback and failure.
 */
export function createLlmJobProcessor(options: LlmJobProcessorOptions) {
  const { router, logger, gate, circuit } = options;
  const lifecycle = new JobLifecycle(options.store);

  /**
   * `token` is the run's BullMQ lock: once the run has started the record, every later write
   * names it, so a run that lost the job to another worker cannot write. `signal` is BullMQ's,
   * fired when the run loses its lock (see main.ts): it aborts the provider call.
   */
  return async function processLlmJob(
    job: Job<LlmJobData>,
    token?: string,
    signal?: AbortSignal,
  ): Promise<LlmJobReturn> {
    const data = job.data;
    const { tenant, jobId } = data;
    const log = logger.child({ jobId, tenant, attempt: job.attemptsMade + 1 });
    // Set once this run has started the record: its writes are then fenced by it.
    let owner: { run?: string } = {};
    const endJob = async (error: JobError, attempt?: AttemptLogEntry): Promise<LlmJobReturn> => {
      const money = options.spend?.withoutAnswer(tenant);
      const outcome = await untilRedisTakesIt(() =>
        lifecycle.fail({
          ...owner,
          tenant,
          jobId,
          error,
          at: Date.now(),
          ...(attempt ? { attempt } : {}),
          ...(money ? { ledger: money } : {}),
        }),
      );
      // The end is announced by the transition itself (the outbox): nothing more to do here.
      log.warn({ kind: error.type, err: error.message }, 'job failed');
      return { status: outcome === 'ended' ? 'failed' : 'skipped' };
    };

    const park = async (
      reason: WaitReason,
      waitMs: number,
      patch: Partial<LlmJobData>,
      ticket?: LimiterTicket,
      undoAttemptOn?: number,
    ) => {
      const earliestStartAt = Date.now() + waitMs;
      const parked = await lifecycle.park({
        ...owner,
        tenant,
        jobId,
        reason,
        earliestStartAt,
        ...(undoAttemptOn !== undefined ? { undoAttemptOn } : {}),
      });
      if (!parked) {
        if (ticket) await gate.release(ticket);
        return false;
      }
      await job.updateData({ ...data, ...patch });
      await job.moveToDelayed(earliestStartAt, token);
      log.debug({ reason, waitMs }, 'job parked');
      return true;
    };

    const steps = async (): Promise<LlmJobReturn> => {
      // A model the config no longer serves (config drift) throws here: classified below.
      const chain = router.chain(data.model, data.fallbacks ?? []);
      if (Date.now() >= data.deadlineAt) {
        await endJob({ type: 'timeout', message: 'the job passed its deadline' });
        throw new UnrecoverableError('deadline passed');
      }

      // A cached answer ends the job here: before the circuit, the limiter and any provider call.
      const cacheStep = await options.spend?.answerFromCache({
        tenant,
        jobId,
        model: formatModelName(
          chain[Math.min(data.modelIndex ?? 0, chain.length - 1)] ?? { provider: '', modelId: '' },
        ),
        cacheMode: data.cacheMode,
      });
      if (cacheStep?.ended) return { status: cacheStep.status };

      // An open circuit sends the job straight to its next model; with none left, it waits.
      let index = Math.min(data.modelIndex ?? 0, chain.length - 1);
      for (;;) {
        const verdict = await circuit.check(formatModelName(chain[index] ?? { provider: '', modelId: '' }));
        if (verdict.allowed) break;
        if (index + 1 < chain.length) {
          index += 1;
          continue;
        }
        // Woken by its deadline at the latest, where the deadline check ends it.
        const waitMs = Math.max(0, Math.min(verdict.waitMs, data.deadlineAt - Date.now()));
        if (!(await park('circuit_open', waitMs, { modelIndex: index }))) return { status: 'skipped' };
        throw new DelayedError();
      }
      const reference = chain[index];
      if (reference === undefined) throw new UnrecoverableError('the job names no model');
      const model = formatModelName(reference);

      const requests =
        data.type === 'embedding'
          ? Math.ceil((data.inputs ?? 1) / router.embeddingModel(reference).maxEmbeddingsPerCall)
          : 1;
      const decision = await gate.admit({
        model,
        tenant,
        requests,
        tokens: data.tokens,
        reservation:
          data.reservationAttempt === job.attemptsMade && data.modelIndex === index ? data.reservation : undefined,
      });
      if (!decision.admitted) {
        if (Date.now() + decision.waitMs > data.deadlineAt) {
          // Its turn would come after its deadline: it ends now, and its slot goes to the jobs behind it.
          await gate.release(decision.ticket);
          await endJob({
            type: 'timeout',
            message: `the job's deadline comes before the rate limit of ${model} has room for it (in ${Math.ceil(decision.waitMs / 1000)} s)`,
          });
          throw new UnrecoverableError('deadline before the limiter has room');
        }
        const patch = { modelIndex: index, reservation: decision.reservation, reservationAttempt: job.attemptsMade };
        if (!(await park('rate_limit', decision.waitMs, patch, decision.ticket))) return { status: 'skipped' };
        throw new DelayedError();
      }
      let ticket = decision.ticket;
      const admittedAt = Date.now();

      const start = await lifecycle.start({ tenant, jobId, at: Date.now(), modelIndex: index, claim: token });
      if (start.outcome !== 'started') {
        if (ticket) await gate.release(ticket);
        log.info({ outcome: start.outcome }, 'job skipped: no longer runnable');
        return { status: 'skipped' };
      }
      const record = start.record;
      if (token !== undefined) owner = { run: token };

      // A call admitted a while ago (a starved event loop, a slow Redis) would reach the provider
      // bunched with later ones: give its place back and ask again, parking it if it must wait.
      if (ticket && Date.now() - admittedAt > RESERVATION_TOLERANCE_MS) {
        await gate.release(ticket);
        const again = await gate.admit({ model, tenant, requests, tokens: data.tokens, reservation: undefined });
        if (!again.admitted) {
          const patch = { modelIndex: index, reservation: again.reservation, reservationAttempt: job.attemptsMade };
          if (!(await park('rate_limit', again.waitMs, patch, again.ticket, index))) return { status: 'skipped' };
          throw new DelayedError();
        }
        ticket = again.ticket;
      }

      const startedAt = Date.now();
      const logEntry = (status: AttemptLogEntry['status'], error?: ProviderError): AttemptLogEntry => ({
        model,
        status,
        started_at: startedAt / 1000,
        duration_ms: Date.now() - startedAt,
        ...(error ? { error: toJobError(error) } : {}),
      });
      const cancel = options.cancels.track(tenant, jobId);
      let headers: Headers | undefined;
      // Only the provider call's own failures come here: a hook or a store error after a
      // successful call must never count against the model or repeat the call.
      const handleFailure = async (error: ProviderError): Promise<LlmJobReturn> => {
        await Promise.all([
          // Only outages count against a model; a 429 or a refused request is an answer, and
          // must also settle a half-open probe instead of leaving it to its lease.
          error.kind === 'canceled' || error.provider === 'llmq'
            ? undefined
            : circuit.record(model, countsAgainstCircuit(error.kind) ? 'failure' : 'success'),
          ticket ? gate.settle(ticket, { error, ...(headers ? { headers } : {}) }) : undefined,
        ]).catch((recordError: unknown) => log.warn({ err: recordError }, 'could not record the call'));
        log.warn({ model, kind: error.kind, status: error.status, err: error.message }, 'provider call failed');
        if (error.kind === 'canceled' && cancel.signal.aborted) return { status: 'skipped' };
        if (signal?.aborted) {
          // Another worker owns the job now; this run writes nothing more.
          log.warn({ model }, 'the run lost its lock: its call was aborted');
          return { status: 'skipped' };
        }

        const outOfAttempts = job.attemptsMade + 2 > (job.opts.attempts ?? 1);
        const failure = outOfAttempts
          ? ({ action: 'fail' } as const)
          : decideAfterFailure(
              {
                error,
                attemptOnModel: record.modelAttempts,
                hasFallback: index + 1 < chain.length,
                remainingMs: data.deadlineAt - Date.now(),
              },
              { attemptsPerModel: data.attemptsPerModel, baseDelayMs: 1_000, maxDelayMs: 60_000 },
            );
        if (failure.action === 'fail') {
          await endJob(toJobError(error), logEntry('failed', error));
          throw new UnrecoverableError(`${error.kind}: ${error.message}`);
        }
        const next = failure.action === 'fallback' ? index + 1 : index;
        const requeued = await lifecycle.requeue({
          ...owner,
          tenant,
          jobId,
          attempt: logEntry('failed', error),
          modelIndex: next,
        });
        if (!requeued) return { status: 'skipped' };
        if (next !== (data.modelIndex ?? 0)) await job.updateData({ ...data, modelIndex: next });
        throw new RetryLater(`${error.kind}: ${error.message}`, failure.action === 'retry' ? failure.delayMs : 0);
      };
      let outcome: Awaited<ReturnType<LlmJobProcessorOptions['callProvider']>>;
      try {
        outcome = await options.callProvider(record, reference, {
          signal: signal ? AbortSignal.any([cancel.signal, signal]) : cancel.signal,
          timeoutMs: Math.max(1, Math.min(data.attemptTimeoutMs, data.deadlineAt - Date.now())),
          idleTimeoutMs: options.streamIdleTimeoutMs,
          onResponseHeaders: (received) => (headers = received),
        });
      } catch (thrown) {
        cancel.release();
        return handleFailure(asProviderError(thrown));
      }
      cancel.release();
      await Promise.all([
        circuit.record(model, 'success'),
        ticket
          ? gate.settle(ticket, {
              usedTokens: outcome.usage.input_tokens + outcome.usage.output_tokens,
              ...(headers ? { headers } : {}),
            })
          : undefined,
      ]).catch((error: unknown) => log.warn({ err: error }, 'could not record the call'));
      const finishedAt = Date.now();
      const money = options.spend?.answered({ tenant, model, outcome, at: finishedAt });
      // The answer is paid for: keep it in memory until Redis takes it, never call again for it.
      const succeeded = await untilRedisTakesIt(
        () =>
          lifecycle.succeed({
            ...owner,
            tenant,
            jobId,
            result: outcome.result,
            usage: outcome.usage,
            answeredBy: model,
            at: finishedAt,
            attempt: logEntry('succeeded'),
            ...(money ? { ledger: money } : {}),
          }),
        { onRetry: (error) => log.warn({ err: error }, 'redis refused a paid answer; keeping it and trying again') },
      );
      log.info({ model, ms: Date.now() - startedAt }, 'job succeeded');
      if (succeeded && money) {
        // Metrics, and the answer into the cache for the next identical (or similar) job.
        const context = cacheStep?.ended === false ? cacheStep.context : {};
        await options.spend?.afterAnswer({ record, model, outcome, context, money });
      }
      return { status: succeeded ? 'succeeded' : 'skipped' };
    };

    try {
      return await steps();
    } catch (error) {
      if (isQueueControl(error)) throw error;
      if (isRedisUnavailable(error)) {
        // Redis refused a write: run again later, without using one of the job's attempts.
        log.warn({ err: error }, 'redis refused a write; the job runs again shortly');
        await job.moveToDelayed(Date.now() + REDIS_RETRY_DELAY_MS, token).catch(() => {
          throw error;
        });
        throw new DelayedError();
      }
      // Anything else llmq did not classify ends the job, never BullMQ's blind retries.
      const jobError: JobError =
        error instanceof ProviderError ? toJobError(error) : { type: 'internal', message: describe(error) };
      log.error({ err: error }, 'unclassified error in the job processor');
      await endJob(jobError);
      throw new UnrecoverableError(`${jobError.type}: ${jobError.message}`);
    }
  };
}

function describe(error: unknown): string {
  return `llmq could not run the job: ${error instanceof Error ? error.message : String(error)}`;
}
