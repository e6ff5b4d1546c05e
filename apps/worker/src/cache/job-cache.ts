import {
  chatAnswerKey,
  chatRequestDigest,
  embeddingInputDigest,
  embeddingInputs,
  embeddingVectorKey,
  estimateEmbeddingTokens,
  ExactCache,
  semanticPromptText,
  semanticScopeDigest,
  type CachedChatAnswer,
  type CacheDecision,
  type CachePolicy,
  type ChatCompletionResult,
  type EmbeddingJobSubmission,
  type EmbeddingResult,
  type JobRecord,
  type Logger,
  type ModelCatalog,
  type PricedUsage,
  type SemanticIndex,
  type SpendObserver,
} from '@llmq/core';
import type { Redis } from 'ioredis';
import type { SemanticPromptEmbedder } from './semantic-prompt-embedder.js';

/** A job answered wholly from the cache. */
export interface CacheHit {
  kind: 'exact' | 'semantic';
  result: ChatCompletionResult | EmbeddingResult;
  /** `provider/model` whose answer it is. */
  model: string;
  /** The usage the stored answer cost: what the hit saves. */
  savedUsage: PricedUsage;
  similarity?: number;
  /** Embedding jobs: inputs answered. */
  inputs?: number;
}

/** What a miss learnt that storing the answer later can reuse. */
export interface CacheContext {
  /** The prompt's unit vector, when a semantic lookup embedded it. */
  vector?: Float32Array;
}

export interface SemanticSetup {
  index: SemanticIndex;
  embedder: SemanticPromptEmbedder;
  /** Entries kept per scope. */
  maxEntries: number;
}

/** One embedding job's inputs against the per-input cache. */
export interface KnownVectors {
  decision: CacheDecision;
  inputs: string[];
  keys: string[];
  vectors: Array<Float32Array | null>;
}

/**
 * The worker's side of the response cache: finds a job's answer (exact, then semantic) before
 * any provider call, and stores answers afterwards. Cache trouble is logged and taken as a miss:
 * it never fails a job.
 */
export class JobCache {
  readonly exact: ExactCache;
  readonly #policy: CachePolicy;
  readonly #catalog: ModelCatalog;
  readonly #logger: Logger;
  readonly #semantic: SemanticSetup | undefined;
  readonly #observer: SpendObserver | undefined;

  constructor(options: {
    redis: Redis;
    policy: CachePolicy;
    catalog: ModelCatalog;
    logger: Logger;
    /** Needed for mode "semantic"; without it semantic jobs use the exact cache only. */
    semantic?: SemanticSetup;
    /** Told of every lookup (metrics). Default: none. */
    observer?: SpendObserver;
  }) {
    this.exact = new ExactCache(options.redis);
    this.#policy = options.policy;
    this.#catalog = options.catalog;
    this.#logger = options.logger;
    this.#semantic = options.semantic;
    this.#observer = options.observer;
  }

  /** Whether a lookup may find anything for a job with this own `cache.mode` on `model`. */
  mayApply(ownMode: string | undefined, model: string): boolean {
    return this.#policy.mayApply(ownMode, model);
  }

  /** The job's answer on `model` from the cache, or a miss. */
  async lookup(record: JobRecord, model: string): Promise<{ hit: CacheHit | null; context: CacheContext }> {
    const context: CacheContext = {};
    try {
      const decision = this.#policy.decide(record.submission, model);
      if (decision === null) return { hit: null, context };
      if (record.submission.type === 'embedding') {
        return { hit: await this.#embeddingHit(record.tenant, record.submission, model), context };
      }
      const { request } = record.submission;
      const scope = { tenant: record.tenant, shared: decision.shared };
      const stored = await this.exact.getChatAnswer(chatAnswerKey(scope, chatRequestDigest(request, model)));
      this.#observer?.cacheLookup({
        tenant: record.tenant,
        model,
        mode: 'exact',
        hits: stored ? 1 : 0,
        misses: stored ? 0 : 1,
      });
      if (stored) return { hit: chatHit('exact', stored), context };
      const text = decision.mode === 'semantic' ? semanticPromptText(request) : null;
      if (text === null || this.#semantic === undefined) return { hit: null, context };
      const vector = await this.#semantic.embedder.embed({ tenant: record.tenant, jobId: record.id, text });
      if (vector === null) return { hit: null, context };
      context.vector = vector;
      const found = await this.#semantic.index.lookup({
        tenant: record.tenant,
        scope: semanticScopeDigest(request, model),
        vector,
        threshold: decision.threshold,
      });
      const hit = found.answer !== null && found.nearest !== null;
      this.#observer?.cacheLookup({
        tenant: record.tenant,
        model,
        mode: 'semantic',
        hits: hit ? 1 : 0,
        misses: hit ? 0 : 1,
      });
      this.#logger.debug(
        { jobId: record.id, similarity: found.nearest?.similarity, compared: found.compared },
        'semantic lookup',
      );
      return found.answer !== null && found.nearest !== null
        ? { hit: chatHit('semantic', found.answer, found.nearest.similarity), context }
        : { hit: null, context };
    } catch (error) {
      this.#logger.warn({ err: error, jobId: record.id }, 'cache lookup failed: treated as a miss');
      return { hit: null, context };
    }
  }

  /** Stores a chat job's answer from `model` (embedding vectors are stored as they are fetched). */
  async remember(
    record: JobRecord,
    model: string,
    outcome: { result: unknown; usage: PricedUsage },
    context: CacheContext,
  ): Promise<void> {
    if (record.submission.type !== 'chat') return;
    try {
      const decision = this.#policy.decide(record.submission, model);
      if (decision === null) return;
      const { request } = record.submission;
      const digest = chatRequestDigest(request, model);
      const answer: CachedChatAnswer = {
        result: outcome.result as ChatCompletionResult,
        usage: { input_tokens: outcome.usage.input_tokens, output_tokens: outcome.usage.output_tokens },
        model,
        jobId: record.id,
        storedAt: Date.now(),
      };
      await this.exact.setChatAnswer(
        chatAnswerKey({ tenant: record.tenant, shared: decision.shared }, digest),
        answer,
        decision.ttlMs,
      );
      const text = decision.mode === 'semantic' ? semanticPromptText(request) : null;
      if (text === null || this.#semantic === undefined) return;
      const vector =
        context.vector ?? (await this.#semantic.embedder.embed({ tenant: record.tenant, jobId: record.id, text }));
      if (vector === null) return;
      await this.#semantic.index.store({
        tenant: record.tenant,
        scope: semanticScopeDigest(request, model),
        id: digest,
        vector,
        answer,
        ttlMs: decision.ttlMs,
        maxEntries: this.#semantic.maxEntries,
      });
    } catch (error) {
      this.#logger.warn({ err: error, jobId: record.id }, 'could not store the answer in the cache');
    }
  }

  /** An embedding job's inputs as the per-input cache knows them; null when the job is not cached on `model`. */
  async knownVectors(tenant: string, submission: EmbeddingJobSubmission, model: string): Promise<KnownVectors | null> {
    const decision = this.#policy.decide(submission, model);
    if (decision === null) return null;
    const inputs = embeddingInputs(submission.request);
    const scope = { tenant, shared: decision.shared };
    const { dimensions } = submission.request;
    const keys = inputs.map((input) =>
      embeddingVectorKey(scope, model, embeddingInputDigest(input, model, dimensions)),
    );
    return { decision, inputs, keys, vectors: await this.exact.getVectors(keys) };
  }

  /** What `inputs` would have cost on `model`, counted as the limiter counts them. */
  async inputUsage(model: string, inputs: string[]): Promise<PricedUsage> {
    const provider = model.slice(0, model.indexOf('/'));
    const kind = this.#catalog.providers.get(provider)?.kind ?? 'openai';
    return { input_tokens: await estimateEmbeddingTokens({ model, input: inputs }, kind), output_tokens: 0 };
  }

  recordEmbeddingLookup(tenant: string, model: string, hits: number, misses: number): void {
    this.#observer?.cacheLookup({ tenant, model, mode: 'embedding', hits, misses });
  }

  async #embeddingHit(tenant: string, submission: EmbeddingJobSubmission, model: string): Promise<CacheHit | null> {
    const known = await this.knownVectors(tenant, submission, model);
    if (known === null || known.vectors.some((vector) => vector === null)) return null;
    this.recordEmbeddingLookup(tenant, model, known.inputs.length, 0);
    return {
      kind: 'exact',
      result: {
        object: 'list',
        model,
        provider: model.slice(0, model.indexOf('/')),
        data: known.vectors.map((vector, index) => ({
          object: 'embedding',
          index,
          embedding: Array.from(vector ?? []),
        })),
        usage: { prompt_tokens: 0, total_tokens: 0 },
      },
      model,
      savedUsage: await this.inputUsage(model, known.inputs),
      inputs: known.inputs.length,
    };
  }
}

function chatHit(kind: 'exact' | 'semantic', stored: CachedChatAnswer, similarity?: number): CacheHit {
  return {
    kind,
    result: stored.result,
    model: stored.model,
    savedUsage: stored.usage,
    ...(similarity !== undefined ? { similarity: Math.round(similarity * 1e6) / 1e6 } : {}),
  };
}
