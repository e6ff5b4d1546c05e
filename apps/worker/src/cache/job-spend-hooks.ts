import {
  isEnded,
  JobLifecycle,
  type JobAccounting,
  type JobEndAccounting,
  type JobEndNotice,
  type JobStore,
  type JobType,
  type Logger,
  type PricedUsage,
} from '@llmq/core';
import type { CacheSavings } from './cached-embedding-run.js';
import type { CacheContext, JobCache } from './job-cache.js';

export type CacheStepResult =
  { ended: true; status: 'succeeded' | 'skipped' } | { ended: false; context: CacheContext };

const NO_CONTEXT: CacheContext = {};

/**
 * The LLM processor's money and cache steps, kept out of its control flow: a cache lookup before
 * anything else, the cost fields and counters that ride on each terminal transition, and, once
 * the end dispatcher reads a success from the outbox, the answer into the cache.
 */
export class JobSpendHooks {
  readonly #store: JobStore;
  readonly #lifecycle: JobLifecycle;
  readonly #accounting: JobAccounting;
  readonly #cache: JobCache | undefined;
  readonly #logger: Logger;

  constructor(options: {
    store: JobStore;
    accounting: JobAccounting;
    /** Without it, nothing is cached. */
    cache?: JobCache;
    logger: Logger;
  }) {
    this.#store = options.store;
    this.#lifecycle = new JobLifecycle(options.store);
    this.#accounting = options.accounting;
    this.#cache = options.cache;
    this.#logger = options.logger;
  }

  /**
   * Before the circuit and the limiter: a job whose answer is in the cache ends `succeeded` now,
   * through `running` like any job (so SSE, webhooks and metrics see it end), with no provider
   * call, no limiter tokens and nothing charged.
   */
  async answerFromCache(options: {
    tenant: string;
    jobId: string;
    model: string;
    /** The job's own `cache.mode`, from its queue data. */
    cacheMode: string | undefined;
    type: JobType;
  }): Promise<CacheStepResult> {
    const { tenant, jobId } = options;
    if (this.#cache === undefined || !this.#cache.mayApply(options.cacheMode, options.model)) {
      return { ended: false, context: NO_CONTEXT };
    }
    const record = await this.#store.get(tenant, jobId);
    // Missing or already ended: the normal path knows what to do.
    if (record === null || isEnded(record.status)) return { ended: false, context: NO_CONTEXT };
    const { hit, context } = await this.#cache.lookup(record, options.model);
    if (hit === null) return { ended: false, context };

    const now = Date.now();
    // A cache hit counts no provider attempt.
    const started = await this.#lifecycle.start({ tenant, jobId, at: now });
    if (started.outcome !== 'started') return { ended: true, status: 'skipped' };
    const money = this.#accounting.cacheHit({
      tenant,
      model: hit.model,
      savedUsage: hit.savedUsage,
      at: now,
      kind: hit.kind,
      ...(hit.similarity !== undefined ? { similarity: hit.similarity } : {}),
      ...(hit.inputs !== undefined ? { inputs: hit.inputs } : {}),
    });
    const done = await this.#lifecycle.succeed({
      tenant,
      jobId,
      result: hit.result,
      usage: { input_tokens: 0, output_tokens: 0 },
      answeredBy: hit.model,
      at: Date.now(),
      ledger: money,
      details: { type: options.type },
    });
    if (!done) return { ended: true, status: 'skipped' };
    this.#logger.info({ jobId, tenant, cached: hit.kind, similarity: hit.similarity }, 'job answered from the cache');
    return { ended: true, status: 'succeeded' };
  }

  /** The success transition's cost fields and counters for a provider's answer on `model`. */
  answered(options: {
    tenant: string;
    model: string;
    outcome: { usage: PricedUsage; cacheSavings?: CacheSavings };
    at: number;
    /** Share of the listed price charged (a provider batch's answer). Default 1. */
    priceFactor?: number;
  }): JobEndAccounting {
    return this.#accounting.answered({
      tenant: options.tenant,
      model: options.model,
      usage: options.outcome.usage,
      at: options.at,
      ...(options.priceFactor === undefined ? {} : { priceFactor: options.priceFactor }),
      ...(options.outcome.cacheSavings ? { saved: options.outcome.cacheSavings } : {}),
    });
  }

  /**
   * What a success's notice says for the cache: the model and the lookup's vector, when the
   * job's answer on `model` may be cached; null otherwise, so the dispatcher reads no record.
   */
  cacheNotice(
    options: { cacheMode: string | undefined; model: string; type: JobType },
    context: CacheContext,
  ): JobEndNotice['cache'] {
    if (
      this.#cache === undefined ||
      options.type !== 'chat' ||
      !this.#cache.mayApply(options.cacheMode, options.model)
    ) {
      return null;
    }
    return { model: options.model, vector: context.vector ?? null };
  }

  /** From the end dispatcher: a success whose notice asks for it goes into the cache. */
  async remember(notice: JobEndNotice): Promise<void> {
    if (this.#cache === undefined || notice.cache === null || notice.status !== 'succeeded') return;
    const record = await this.#store.get(notice.tenant, notice.jobId);
    if (record === null || record.result === null || record.usage === null) return;
    await this.#cache.remember(
      record,
      notice.cache.model,
      { result: record.result, usage: record.usage },
      notice.cache.vector ? { vector: notice.cache.vector } : {},
    );
  }
}
