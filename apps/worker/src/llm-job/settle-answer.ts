import {
  inSpan,
  traceFields,
  untilRedisTakesIt,
  type AttemptLogEntry,
  type CircuitChecker,
  type JobLifecycle,
  type JobPath,
} from '@llmq/core';
import type { CacheContext } from '../cache/job-cache.js';
import type { JobSpendHooks } from '../cache/job-spend-hooks.js';
import type { LimiterGate, LimiterTicket } from '../limiter-gate.js';
import type { ProviderCallOutcome } from '../provider-call.js';
import type { JobRun, LlmJobReturn } from './job-run.js';

/**
 * After a successful call: the circuit and the limiter learn of it, then the answer is written.
 * It is paid for, so it is kept in memory until Redis takes it and never bought again. The
 * success's notice (the outbox) carries its money and what the cache needs; the end dispatcher
 * does the rest.
 */
export async function settleAnswer(
  run: JobRun,
  answer: {
    model: string;
    /** The circuit the call counts in: the model's, or its account's on it. Default: the model's. */
    circuitName?: string;
    /** The provider account that answered. */
    account?: string | undefined;
    outcome: ProviderCallOutcome;
    ticket: LimiterTicket | undefined;
    headers: Headers | undefined;
    attempt: AttemptLogEntry;
    cacheContext: CacheContext;
    /** Share of the listed price charged: a provider batch's answer costs less. Default 1. */
    priceFactor?: number;
    /** `batch` for a provider batch line's answer (the end's notice says so, for the metrics). Default `sync`. */
    path?: JobPath;
  },
  parts: { circuit: CircuitChecker; gate: LimiterGate; lifecycle: JobLifecycle; spend?: JobSpendHooks | undefined },
): Promise<LlmJobReturn> {
  const { model, outcome, ticket, headers } = answer;
  await Promise.all([
    parts.circuit.record(answer.circuitName ?? model, 'success'),
    ticket
      ? parts.gate.settle(ticket, {
          usedTokens: outcome.usage.input_tokens + outcome.usage.output_tokens,
          ...(headers ? { headers } : {}),
        })
      : undefined,
  ]).catch((error: unknown) => run.log.warn({ err: error }, 'could not record the call'));
  const finishedAt = Date.now();
  const money = parts.spend?.answered({
    tenant: run.tenant,
    model,
    outcome,
    at: finishedAt,
    ...(answer.priceFactor === undefined ? {} : { priceFactor: answer.priceFactor }),
  });
  const cache = parts.spend?.cacheNotice(
    { cacheMode: run.data.cacheMode, model, type: run.data.type },
    answer.cacheContext,
  );
  // The result write in a span of its own; its trace context goes on the end's notice (webhook).
  const succeeded = await inSpan('llmq.job.succeed', { attributes: { 'llmq.job.id': run.jobId } }, () =>
    untilRedisTakesIt(
      () =>
        parts.lifecycle.succeed({
          ...run.ref,
          result: outcome.result,
          usage: outcome.usage,
          answeredBy: model,
          ...(answer.account === undefined ? {} : { account: answer.account }),
          at: finishedAt,
          attempt: answer.attempt,
          ...(money ? { ledger: money } : {}),
          details: {
            type: run.data.type,
            cache: cache ?? null,
            path: answer.path ?? 'sync',
            ...(answer.account === undefined ? {} : { account: answer.account }),
            ...traceFields(),
          },
        }),
      {
        maxMs: run.parts.redisPatienceMs,
        onRetry: (error) => run.log.warn({ err: error }, 'redis refused a paid answer; keeping it and trying again'),
      },
    ),
  );
  run.log.info({ model }, 'job succeeded');
  return { status: succeeded ? 'succeeded' : 'skipped' };
}
