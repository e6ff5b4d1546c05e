import { UnrecoverableError, type Job } from 'bullmq';
import {
  formatModelName,
  JobLifecycle,
  ProviderError,
  traceProviderCall,
  type AttemptLogEntry,
  type CircuitChecker,
  type JobStore,
  type LlmJobData,
  type Logger,
} from '@llmq/core';
import type { AccountChooser } from '../account-chooser.js';
import type { JobSpendHooks } from '../cache/job-spend-hooks.js';
import type { CancelRegistry } from '../cancel-registry.js';
import type { LimiterGate } from '../limiter-gate.js';
import type { ModelRouter } from '../model-router.js';
import type { createProviderCall, ProviderCallOutcome } from '../provider-call.js';
import { traceJobRun } from '../tracing/job-run-span.js';
import { admitCall } from './admit-call.js';
import { classifyUnexpected } from './classify-unexpected.js';
import { deferToBatch, type BatchPath } from './defer-to-batch.js';
import { handleCallFailure } from './handle-call-failure.js';
import { JobRun, LLMQ, toJobError, type LlmJobReturn } from './job-run.js';
import { pickModel } from './pick-model.js';
import { settleAnswer } from './settle-answer.js';

export type { LlmJobReturn } from './job-run.js';

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
  /** How long an end or a paid answer is kept and retried while Redis refuses writes, ms. Default 10 min. */
  redisPatienceMs?: number;
  /** Pause before a run that Redis refused runs again (using none of the job's attempts), ms. Default 2 s. */
  redisRetryDelayMs?: number;
  /** Deferrable jobs through the providers' batch APIs. Default: none (they run synchronously). */
  batchPath?: BatchPath;
  /** The providers' accounts (config `accounts:`). Default: none (every call uses its provider's key). */
  accounts?: AccountChooser;
}

function asProviderError(error: unknown): ProviderError {
  if (error instanceof ProviderError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ProviderError({ provider: LLMQ, kind: 'provider_error', message, cause: error });
}

/**
 * The BullMQ processor of the LLM queue, as its steps: deadline, cache, pick model (circuit),
 * admit (limiter, start), call, settle the answer, or handle the failure. `token` is the run's
 * BullMQ lock (its writes are fenced by it); `signal` is BullMQ's, fired when the run loses its
 * lock (see main.ts): it aborts the provider call.
 */
/**
 * A flex call refused for want of capacity (OpenAI answers 429 "resource unavailable") says
 * nothing about the model's standard limit: it is retried, at the standard tier, without the
 * 429's block on the model's bucket.
 */
function flexUnavailable(error: ProviderError): ProviderError {
  if (error.kind !== 'rate_limit') return error;
  return new ProviderError({
    provider: error.provider,
    kind: 'overloaded',
    message: `the flex tier had no capacity: ${error.message}`,
    ...(error.status === undefined ? {} : { status: error.status }),
  });
}

export function createLlmJobProcessor(options: LlmJobProcessorOptions) {
  const { router, gate, circuit } = options;
  const lifecycle = new JobLifecycle(options.store);
  const parts = {
    lifecycle,
    gate,
    circuit,
    spend: options.spend,
    logger: options.logger,
    redisPatienceMs: options.redisPatienceMs ?? 600_000,
    redisRetryDelayMs: options.redisRetryDelayMs ?? 2_000,
  };

  async function steps(run: JobRun): Promise<LlmJobReturn> {
    const { data, tenant, jobId } = run;
    // A model the config no longer serves (config drift) throws here: classified by the caller.
    const chain = router.chain(data.model, data.fallbacks ?? []);

    if (Date.now() >= data.deadlineAt) {
      await run.end({ type: 'timeout', message: 'the job passed its deadline' });
      throw new UnrecoverableError('deadline passed');
    }

    // A cached answer ends the job here: before the circuit, the limiter and any provider call.
    const current = chain[Math.min(data.modelIndex ?? 0, chain.length - 1)] ?? { provider: '', modelId: '' };
    const cacheStep = await options.spend?.answerFromCache({
      tenant,
      jobId,
      model: formatModelName(current),
      cacheMode: data.cacheMode,
      type: data.type,
    });
    if (cacheStep?.ended) return { status: cacheStep.status };

    // A deferrable job goes through its provider's batch API, unless it has left that path.
    const batched = await deferToBatch(run, current, options.batchPath, parts);
    if (batched !== 'sync') return batched;

    const pick = await pickModel(run, chain, circuit, options.accounts);
    if ('status' in pick) return pick;
    const { index, reference, model, route } = pick;
    const account = route?.account;
    // An account's calls count against its org's bucket and its own circuit.
    const circuitName = route?.circuit ?? model;

    const requests =
      data.type === 'embedding'
        ? Math.ceil((data.inputs ?? 1) / router.embeddingModel(reference, account).maxEmbeddingsPerCall)
        : 1;
    const admission = await admitCall(run, { index, model: route?.bucket ?? model, requests, account }, parts);
    if ('status' in admission) return admission;
    const { record, ticket } = admission;

    const startedAt = Date.now();
    const logEntry = (status: AttemptLogEntry['status'], error?: ProviderError): AttemptLogEntry => ({
      model,
      status,
      started_at: startedAt / 1000,
      duration_ms: Date.now() - startedAt,
      ...(account === undefined ? {} : { account }),
      ...(error ? { error: toJobError(error) } : {}),
    });
    // A deferrable job that left its batch tries the flex tier first, where the config names it.
    const flex =
      data.deferrable === true &&
      data.batchSkipped === true &&
      data.type === 'chat' &&
      record.modelAttempts === 1 &&
      (options.batchPath?.config.flex as readonly string[] | undefined)?.includes(reference.provider) === true;
    const cancel = options.cancels.track(tenant, jobId);
    let headers: Headers | undefined;
    let outcome: ProviderCallOutcome;
    try {
      // A span per provider call, with the GenAI conventions' attributes (never the prompt or the answer).
      outcome = await traceProviderCall({ type: data.type, reference, attempt: record.attempts }, () =>
        options.callProvider(
          record,
          { reference, account },
          {
            signal: run.signal ? AbortSignal.any([cancel.signal, run.signal]) : cancel.signal,
            timeoutMs: Math.max(1, Math.min(data.attemptTimeoutMs, data.deadlineAt - Date.now())),
            idleTimeoutMs: options.streamIdleTimeoutMs,
            onResponseHeaders: (received: Headers) => (headers = received),
            ...(flex ? { serviceTier: 'flex' as const } : {}),
          },
        ),
      );
    } catch (thrown) {
      cancel.release();
      const failed = {
        error: flex ? flexUnavailable(asProviderError(thrown)) : asProviderError(thrown),
        model,
        circuitName,
        account,
        accounts: route ? (options.accounts?.routes(reference) ?? []) : [],
        index,
        chainLength: chain.length,
        attemptOnModel: record.modelAttempts,
        ticket,
        headers,
        logEntry,
        canceled: cancel.signal.aborted,
        flex,
      };
      return handleCallFailure(run, failed, parts);
    }
    cancel.release();
    return settleAnswer(
      run,
      {
        model,
        circuitName,
        account,
        outcome,
        ticket,
        headers,
        attempt: logEntry('succeeded'),
        cacheContext: cacheStep?.ended === false ? cacheStep.context : {},
        ...(flex ? { priceFactor: options.batchPath?.config.price_factor ?? 1, path: 'flex' as const } : {}),
      },
      parts,
    );
  }

  return async function processLlmJob(
    job: Job<LlmJobData>,
    token?: string,
    signal?: AbortSignal,
  ): Promise<LlmJobReturn> {
    const run = new JobRun(job, token, signal, parts);
    // The run's span joins the trace its job was enqueued in; parks and retries show on it.
    return traceJobRun(job, async () => {
      try {
        return await steps(run);
      } catch (error) {
        return classifyUnexpected(run, error);
      }
    });
  };
}
