import { UnrecoverableError, DelayedError } from 'bullmq';
import {
  checkStructuredOutput,
  estimateEmbeddingTokens,
  estimatePromptTokens,
  formatModelName,
  prepareStructuredOutput,
  ProviderError,
  type BatchingConfig,
  type CircuitChecker,
  type JobLifecycle,
  type ModelReference,
  type ProviderKind,
} from '@llmq/core';
import type { JobSpendHooks } from '../cache/job-spend-hooks.js';
import type { LimiterGate } from '../limiter-gate.js';
import type { ProviderBatchApi } from '../provider-batches/provider-batch-api.js';
import { groupOf, type ProviderBatchStore } from '../provider-batches/provider-batch-store.js';
import { toJobError, type JobRun, type LlmJobReturn } from './job-run.js';
import { settleAnswer } from './settle-answer.js';

/** What the batch path needs: its state, the providers' batch APIs, the `batching` config. */
export interface BatchPath {
  store: ProviderBatchStore;
  apis: ReadonlyMap<string, ProviderBatchApi>;
  config: BatchingConfig;
  /** Prompt tokens a model's batches may have enqueued at once (`provider/model`); undefined: unbounded. */
  enqueuedTokenLimit?: (model: string) => number | undefined;
}

/**
 * A deferrable job's step before the synchronous path: it joins its provider's next batch, waits
 * on it, and ends with its line's answer at the batch price. It returns 'sync' when the job runs
 * the normal way: not deferrable, no batch API for its provider, or it left its batch (a late
 * batch, an expired or canceled line, a retryable error). A permanent error of its line fails it.
 */
export async function deferToBatch(
  run: JobRun,
  reference: ModelReference,
  path: BatchPath | undefined,
  parts: { circuit: CircuitChecker; gate: LimiterGate; lifecycle: JobLifecycle; spend?: JobSpendHooks | undefined },
): Promise<'sync' | LlmJobReturn> {
  const { data } = run;
  const api = path?.apis.get(reference.provider);
  if (path === undefined || api === undefined || !data.deferrable || data.batchSkipped) return 'sync';
  // Embeddings go where the provider batches them, as many inputs as one of its lines takes.
  const batchable =
    data.type === 'chat' || (api.embeddingLine !== undefined && (data.inputs ?? 1) <= (api.maxEmbeddingInputs ?? 0));
  if (!batchable) return 'sync';
  const { store, config } = path;
  const member = { tenant: run.tenant, jobId: run.jobId };
  const lastChanceAt = data.deadlineAt - config.deadline_margin_s * 1000;
  const model = formatModelName(reference);
  const leave = async (reason: string): Promise<'sync'> => {
    await run.job.updateData({ ...data, batchSkipped: true });
    data.batchSkipped = true;
    run.log.info({ reason }, 'job leaves the batch path and runs synchronously');
    return 'sync';
  };
  /** Waits on the batch: woken by its answer, or at the last moment it may still run synchronously. */
  const wait = async (): Promise<LlmJobReturn> => {
    const waitMs = Math.max(1, Math.min(lastChanceAt - Date.now(), config.poll_max_s * 1000));
    if (!(await run.park({ reason: 'provider_batch', waitMs, patch: {} }))) return { status: 'skipped' };
    throw new DelayedError();
  };

  const line = await store.line(member);
  if (line === null) {
    if (Date.now() + config.max_wait_s * 1000 >= lastChanceAt) return leave('its deadline is too near for a batch');
    const record = await run.parts.lifecycle.store.get(run.tenant, run.jobId);
    if (record === null) return { status: 'skipped' };
    const { submission } = record;
    // A schema that cannot be used fails here, as it would before a synchronous call.
    if (submission.type === 'chat') prepareStructuredOutput(submission.request, reference.provider);
    // Where the model's enqueued tokens are bounded, the job's prompt is counted once, here.
    const kind = reference.provider as ProviderKind;
    const tokens =
      path.enqueuedTokenLimit?.(model) === undefined
        ? undefined
        : submission.type === 'chat'
          ? await estimatePromptTokens(submission.request, kind)
          : await estimateEmbeddingTokens(submission.request, kind);
    await store.gather(
      groupOf(reference.provider, reference.modelId, submission.type),
      tokens === undefined ? member : { ...member, tokens },
      data.deadlineAt,
    );
    return wait();
  }
  switch (line.state) {
    case 'gathered':
    case 'sent':
      if (Date.now() < lastChanceAt) return wait();
      if (line.state === 'sent') await store.requestCancel(line.intent);
      return leave('its batch is late for its deadline');
    case 'left':
      return leave(line.reason);
    case 'failed': {
      const error = new ProviderError({ provider: reference.provider, ...line.error });
      if (error.retryable) return leave(`its batch line failed: ${error.message}`);
      return run.end(toJobError(error)).then(() => {
        throw new UnrecoverableError(`${error.kind}: ${error.message}`);
      });
    }
    case 'answered': {
      const startedAt = Date.now();
      const started = await parts.lifecycle.start({ ...run.ref, at: startedAt, claim: run.token });
      if (started.outcome !== 'started') return { status: 'skipped' };
      run.claim();
      const submission = started.record.submission;
      if (submission.type === 'chat' && 'choices' in line.result)
        checkStructuredOutput(submission.request, line.result);
      return settleAnswer(
        run,
        {
          model,
          outcome: { result: line.result, usage: line.usage },
          ticket: undefined,
          headers: undefined,
          attempt: { model, status: 'succeeded', started_at: startedAt / 1000, duration_ms: 0 },
          cacheContext: {},
          priceFactor: config.price_factor,
          path: 'batch',
        },
        parts,
      );
    }
  }
}
