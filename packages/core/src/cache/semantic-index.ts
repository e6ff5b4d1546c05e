import type { Redis } from 'ioredis';
import { readLuaScript } from '../store/lua-scripts.js';
import { semanticScopeKeys } from './cache-keys.js';
import type { CachedChatAnswer } from './exact-cache.js';
import { dotProduct, packVector, unpackVector } from './vector-codec.js';

/** The nearest stored prompt of a scope. */
export interface SemanticMatch {
  /** Entry id (the exact digest of the stored request). */
  id: string;
  /** Cosine similarity to the query, -1..1. */
  similarity: number;
}

export interface SemanticLookup {
  /** The nearest live entry, if the scope has any. */
  nearest: SemanticMatch | null;
  /** Its answer, when `nearest` reaches the threshold. */
  answer: CachedChatAnswer | null;
  /** Entries compared. */
  compared: number;
}

/** Where semantic entries live and how the nearest one is found. */
export interface SemanticIndex {
  /** `vector` must be unit length. */
  lookup(options: { tenant: string; scope: string; vector: Float32Array; threshold: number }): Promise<SemanticLookup>;
  store(options: {
    tenant: string;
    scope: string;
    id: string;
    /** Unit length. */
    vector: Float32Array;
    answer: CachedChatAnswer;
    ttlMs: number;
    /** Most entries the scope keeps. */
    maxEntries: number;
  }): Promise<void>;
}

interface SemanticCommands {
  llmqSemanticStore(
    vectors: string,
    answers: string,
    expiries: string,
    ...args: Array<string | Buffer>
  ): Promise<number>;
}

/**
 * Semantic entries on a stock Redis: per scope, vectors packed as float32 in a hash, answers in
 * another, expiry times in a sorted set (semantic-store.lua keeps the bound). A lookup reads the
 * scope's vectors in one round trip and compares them all here, in the worker, so Redis never
 * spends its single thread on arithmetic; the cost grows with entries x dimensions, which is
 * what `max_entries_per_scope` and `dimensions` bound.
 */
export class RedisSemanticIndex implements SemanticIndex {
  readonly #redis: Redis & SemanticCommands;
  readonly #now: () => number;

  /** `now`: the clock entry expiry is judged by, ms since the epoch. Default: `Date.now`. */
  constructor(redis: Redis, options: { now?: () => number } = {}) {
    const commands = redis as Redis & SemanticCommands;
    if (typeof commands.llmqSemanticStore !== 'function') {
      redis.defineCommand('llmqSemanticStore', {
        numberOfKeys: 3,
        lua: readLuaScript(new URL('./lua/semantic-store.lua', import.meta.url)),
      });
    }
    this.#redis = commands;
    this.#now = options.now ?? Date.now;
  }

  async lookup(options: {
    tenant: string;
    scope: string;
    vector: Float32Array;
    threshold: number;
  }): Promise<SemanticLookup> {
    const keys = semanticScopeKeys(options.tenant, options.scope);
    const replies = await this.#redis
      .multi()
      .zrangebyscore(keys.expiries, `(${this.#now()}`, '+inf')
      .hgetallBuffer(keys.vectors)
      .exec();
    const live = new Set((replies?.[0]?.[1] ?? []) as string[]);
    const vectors = (replies?.[1]?.[1] ?? {}) as Record<string, Buffer>;
    let nearest: SemanticMatch | null = null;
    let compared = 0;
    for (const [id, packed] of Object.entries(vectors)) {
      if (!live.has(id)) continue;
      compared += 1;
      const similarity = dotProduct(options.vector, unpackVector(packed));
      if (nearest === null || similarity > nearest.similarity) nearest = { id, similarity };
    }
    if (nearest === null || nearest.similarity < options.threshold) return { nearest, answer: null, compared };
    const text = await this.#redis.hget(keys.answers, nearest.id);
    // Evicted between the two reads: a miss.
    return { nearest, answer: text === null ? null : (JSON.parse(text) as CachedChatAnswer), compared };
  }

  async store(options: {
    tenant: string;
    scope: string;
    id: string;
    vector: Float32Array;
    answer: CachedChatAnswer;
    ttlMs: number;
    maxEntries: number;
  }): Promise<void> {
    const keys = semanticScopeKeys(options.tenant, options.scope);
    const now = this.#now();
    await this.#redis.llmqSemanticStore(
      keys.vectors,
      keys.answers,
      keys.expiries,
      options.id,
      packVector(options.vector),
      JSON.stringify(options.answer),
      String(now + options.ttlMs),
      String(options.maxEntries),
      String(now),
    );
  }
}
