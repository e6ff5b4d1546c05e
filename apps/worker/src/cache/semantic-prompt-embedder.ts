import {
  embeddingInputDigest,
  embeddingVectorKey,
  formatModelName,
  normaliseVector,
  ProviderError,
  type ExactCache,
  type JobAccounting,
  type Logger,
  type ModelReference,
  type SemanticCacheConfig,
} from '@llmq/core';
import type { Redis } from 'ioredis';
import type { LimiterGate } from '../limiter-gate.js';
import type { ModelRouter } from '../model-router.js';

/**
 * Embeds prompts for semantic lookups with the configured embedding model, through the normal
 * adapter and under the limiter. Each prompt's vector is kept in the tenant's exact embedding
 * cache, so a job that comes back (parked, retried) does not pay twice; the call that is made
 * is charged to the job. Any trouble (limiter says wait, provider error, timeout) is a miss:
 * a lookup never delays or fails a job.
 */
export class SemanticPromptEmbedder {
  readonly #reference: ModelReference;
  readonly #model: string;
  readonly #config: SemanticCacheConfig;
  readonly #options: {
    router: ModelRouter;
    gate: LimiterGate;
    cache: ExactCache;
    accounting: JobAccounting | undefined;
    redis: Redis;
    logger: Logger;
    ttlMs: number;
  };

  constructor(options: {
    router: ModelRouter;
    gate: LimiterGate;
    cache: ExactCache;
    /** Charges the embedding calls to their jobs. Default: not charged. */
    accounting?: JobAccounting;
    redis: Redis;
    logger: Logger;
    config: SemanticCacheConfig;
    /** How long a prompt's vector is kept, ms. */
    ttlMs: number;
  }) {
    const [reference] = options.router.chain(options.config.embedding_model);
    if (reference === undefined) throw new Error('cache.semantic.embedding_model names no model');
    // Fails at start-up, not at the first lookup, when the provider has no embeddings.
    options.router.embeddingModel(reference);
    this.#reference = reference;
    this.#model = formatModelName(reference);
    this.#config = options.config;
    this.#options = { ...options, accounting: options.accounting };
  }

  /** The prompt's unit vector, or null when it could not be had now. */
  async embed(options: { tenant: string; jobId: string; text: string }): Promise<Float32Array | null> {
    const { tenant, jobId, text } = options;
    const { cache, gate, router, logger } = this.#options;
    const key = embeddingVectorKey(
      { tenant, shared: false },
      this.#model,
      embeddingInputDigest(text, this.#model, this.#config.dimensions),
    );
    const [known] = await cache.getVectors([key]);
    if (known) return normaliseVector(known);

    const embeddingModel = router.embeddingModel(this.#reference);
    const decision = await gate.admit({
      model: this.#model,
      tenant,
      requests: 1,
      // About four characters a token: only the limiter's reservation, settled on the real count.
      tokens: Math.ceil(text.length / 4),
      reservation: undefined,
    });
    if (!decision.admitted) {
      await gate.release(decision.ticket);
      logger.debug({ jobId, waitMs: decision.waitMs }, 'semantic lookup skipped: embedding model rate limited');
      return null;
    }
    let answer: { embeddings: number[][]; promptTokens: number };
    try {
      answer = await embeddingModel.doEmbed(
        [text],
        { dimensions: this.#config.dimensions },
        { timeoutMs: this.#config.timeout_ms },
      );
    } catch (error) {
      if (decision.ticket) {
        await gate.settle(decision.ticket, { error: error instanceof ProviderError ? error : undefined });
      }
      logger.warn({ jobId, err: error }, 'semantic lookup skipped: the embedding call failed');
      return null;
    }
    if (decision.ticket) await gate.settle(decision.ticket, { usedTokens: answer.promptTokens });
    const [vector] = answer.embeddings;
    if (vector === undefined) return null;
    await Promise.all([
      cache.setVectors([{ key, vector }], this.#options.ttlMs),
      this.#options.accounting?.chargeOnTheWay(this.#options.redis, {
        tenant,
        jobId,
        model: this.#model,
        usage: { input_tokens: answer.promptTokens, output_tokens: 0 },
        at: Date.now(),
      }),
    ]);
    return normaliseVector(vector);
  }
}
