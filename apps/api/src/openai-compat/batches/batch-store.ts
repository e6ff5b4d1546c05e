import type { Redis } from 'ioredis';
import { tenantTag } from '@llmq/core';
import { batchObjectSchema, isBatchId, type BatchObject } from './batch-object.js';

/** One line of a batch, in file order: the job it became, or why its body was refused. */
export type BatchLineRef = { customId: string; jobId: string } | { customId: string; problem: string };

const batchKey = (tenant: string, id: string) => `${tenantTag(tenant)}:batch:${id}`;
const linesKey = (tenant: string, id: string) => `${batchKey(tenant, id)}:lines`;
const pendingKey = (tenant: string, id: string) => `${batchKey(tenant, id)}:pending`;
const countsKey = (tenant: string, id: string) => `${batchKey(tenant, id)}:counts`;
const lockKey = (tenant: string, id: string) => `${batchKey(tenant, id)}:lock`;
/** A tenant's batch ids, all scored 0 so they sort by id (creation time). */
const indexKey = (tenant: string) => `${tenantTag(tenant)}:batches`;

const LINES_PER_WRITE = 1_000;

/**
 * Batches in Redis under the tenant's hash tag: the batch object (JSON), its lines in file order,
 * the set of its jobs not yet seen ended, and the counts of those seen; all expire with the
 * retention of jobs.
 */
export class BatchStore {
  constructor(
    private readonly redis: Redis,
    private readonly retentionMs: number,
  ) {}

  async create(tenant: string, batch: BatchObject, lines: BatchLineRef[]): Promise<void> {
    const ttl = String(this.retentionMs);
    for (let start = 0; start < lines.length; start += LINES_PER_WRITE) {
      const slice = lines.slice(start, start + LINES_PER_WRITE);
      await this.redis.rpush(linesKey(tenant, batch.id), ...slice.map((line) => JSON.stringify(line)));
      const jobIds = slice.flatMap((line) => ('jobId' in line ? [line.jobId] : []));
      if (jobIds.length > 0) await this.redis.sadd(pendingKey(tenant, batch.id), ...jobIds);
    }
    await this.redis
      .multi()
      .pexpire(linesKey(tenant, batch.id), ttl)
      .pexpire(pendingKey(tenant, batch.id), ttl)
      .hset(
        countsKey(tenant, batch.id),
        'completed',
        batch.request_counts.completed,
        'failed',
        batch.request_counts.failed,
      )
      .pexpire(countsKey(tenant, batch.id), ttl)
      .set(batchKey(tenant, batch.id), JSON.stringify(batch), 'PX', ttl)
      .zadd(indexKey(tenant), 0, batch.id)
      .pexpire(indexKey(tenant), ttl)
      .exec();
  }

  /** The batch with its current counts; null when there is none. */
  async get(tenant: string, id: string): Promise<BatchObject | null> {
    if (!isBatchId(id)) return null;
    const [[, raw] = [], [, counts] = []] =
      (await this.redis.multi().get(batchKey(tenant, id)).hgetall(countsKey(tenant, id)).exec()) ?? [];
    if (typeof raw !== 'string') return null;
    const batch = batchObjectSchema.parse(JSON.parse(raw));
    const tally = (counts ?? {}) as Record<string, string>;
    batch.request_counts.completed = Number(tally.completed ?? batch.request_counts.completed);
    batch.request_counts.failed = Number(tally.failed ?? batch.request_counts.failed);
    return batch;
  }

  async save(tenant: string, batch: BatchObject): Promise<void> {
    await this.redis.set(batchKey(tenant, batch.id), JSON.stringify(batch), 'KEEPTTL');
  }

  /** Up to `count` of the batch's jobs not yet seen ended, at random. */
  pendingSample(tenant: string, id: string, count: number): Promise<string[]> {
    return this.redis.srandmember(pendingKey(tenant, id), count);
  }

  pendingCount(tenant: string, id: string): Promise<number> {
    return this.redis.scard(pendingKey(tenant, id));
  }

  /** Counts a job's end once, whoever sees it first. */
  async settle(tenant: string, id: string, jobId: string, outcome: 'completed' | 'failed'): Promise<void> {
    const removed = await this.redis.srem(pendingKey(tenant, id), jobId);
    if (removed === 1) await this.redis.hincrby(countsKey(tenant, id), outcome, 1);
  }

  /** The batch's lines in file order, `count` from `start`. */
  async lines(tenant: string, id: string, start: number, count: number): Promise<BatchLineRef[]> {
    const raw = await this.redis.lrange(linesKey(tenant, id), start, start + count - 1);
    return raw.map((line) => JSON.parse(line) as BatchLineRef);
  }

  /** Whether this caller may finalize the batch now (one at a time, for at most `ms`). */
  async lock(tenant: string, id: string, ms: number): Promise<boolean> {
    return (await this.redis.set(lockKey(tenant, id), '1', 'PX', ms, 'NX')) === 'OK';
  }

  async unlock(tenant: string, id: string): Promise<void> {
    await this.redis.del(lockKey(tenant, id));
  }

  /** A page of batch ids, newest first, after `after`. */
  async ids(tenant: string, limit: number, after?: string): Promise<string[]> {
    return this.redis.zrevrangebylex(indexKey(tenant), after === undefined ? '+' : `(${after}`, '-', 'LIMIT', 0, limit);
  }
}
