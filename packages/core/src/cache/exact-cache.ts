import type { Redis } from 'ioredis';
import type { JobUsage } from '../jobs/job-object.js';
import type { ChatCompletionResult } from '../providers/chat-completion.js';
import { packVector, unpackVector } from './vector-codec.js';

/** A chat answer as the cache keeps it. */
export interface CachedChatAnswer {
  result: ChatCompletionResult;
  /** The usage of the call that produced it: what a hit saves. */
  usage: JobUsage;
  /** `provider/model` that answered. */
  model: string;
  /** The job whose call produced it. */
  jobId: string;
  /** ms since the epoch. */
  storedAt: number;
}

function parseAnswer(text: string | null): CachedChatAnswer | null {
  if (text === null) return null;
  try {
    const answer = JSON.parse(text) as Partial<CachedChatAnswer>;
    if (typeof answer.model !== 'string' || answer.result === undefined || answer.usage === undefined) return null;
    return answer as CachedChatAnswer;
  } catch {
    // An unreadable entry is a miss; the next answer overwrites it.
    return null;
  }
}

/** Exact entries: one key per chat answer and one per embedding input, each with its own TTL. */
export class ExactCache {
  readonly #redis: Redis;

  constructor(redis: Redis) {
    this.#redis = redis;
  }

  async getChatAnswer(key: string): Promise<CachedChatAnswer | null> {
    return parseAnswer(await this.#redis.get(key));
  }

  async setChatAnswer(key: string, answer: CachedChatAnswer, ttlMs: number): Promise<void> {
    await this.#redis.set(key, JSON.stringify(answer), 'PX', ttlMs);
  }

  /** The cached vectors of `keys`, in order; null where there is none. Keys must share a hash tag. */
  async getVectors(keys: readonly string[]): Promise<Array<Float32Array | null>> {
    if (keys.length === 0) return [];
    const values = await this.#redis.mgetBuffer(...keys);
    return values.map((value) => (value === null || value.length === 0 ? null : unpackVector(value)));
  }

  async setVectors(entries: ReadonlyArray<{ key: string; vector: ArrayLike<number> }>, ttlMs: number): Promise<void> {
    if (entries.length === 0) return;
    const pipeline = this.#redis.pipeline();
    for (const entry of entries) pipeline.set(entry.key, packVector(entry.vector), 'PX', ttlMs);
    await pipeline.exec();
  }
}
