import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { tenantTag } from '@llmq/core';
import { batchObjectSchema, isBatchId, type BatchObject } from './batch-object.js';
import { BATCH_PROGRESS_FIELD, parseBatchProgress, type BatchProgress } from './batch-progress-fields.js';

/** One line of a batch, in file order: the job it becomes, or why its body was refused at validation. */
export type BatchLineRef = { customId: string; jobId: string } | { customId: string; problem: string };

/** Tokens of one succeeded line, added to the batch's `usage`. */
export interface LineUsage {
  input_tokens: number;
  cached_tokens: number;
  output_tokens: number;
  reasoning_tokens: number;
}

const batchKey = (tenant: string, id: string) => `${tenantTag(tenant)}:batch:${id}`;
const linesKey = (tenant: string, id: string) => `${batchKey(tenant, id)}:lines`;
/** The validated submission of each line (JSON, '' for a refused body), aligned with the lines; gone once all are accepted. */
const requestsKey = (tenant: string, id: string) => `${batchKey(tenant, id)}:requests`;
const pendingKey = (tenant: string, id: string) => `${batchKey(tenant, id)}:pending`;
const countsKey = (tenant: string, id: string) => `${batchKey(tenant, id)}:counts`;
const progressKey = (tenant: string, id: string) => `${batchKey(tenant, id)}:progress`;
/** Line index -> why a line's job was refused at acceptance (a 4xx of the job checks). */
const problemsKey = (tenant: string, id: string) => `${batchKey(tenant, id)}:problems`;
const lockKey = (tenant: string, id: string) => `${batchKey(tenant, id)}:lock`;
/** A tenant's batch ids, all scored 0 so they sort by id (creation time). */
const indexKey = (tenant: string) => `${tenantTag(tenant)}:batches`;

const NO_USAGE = {
  input_tokens: 0,
  input_tokens_details: { cached_tokens: 0 },
  output_tokens: 0,
  output_tokens_details: { reasoning_tokens: 0 },
  total_tokens: 0,
};

const USAGE_FIELDS = ['input_tokens', 'cached_tokens', 'output_tokens', 'reasoning_tokens'] as const;

interface BatchCommands {
  llmqBatchSettle(pending: string, counts: string, ...args: string[]): Promise<number>;
  llmqBatchLockRenew(lock: string, token: string, ms: string): Promise<number>;
  llmqBatchLockRelease(lock: string, token: string): Promise<number>;
}

const lua = (name: string) => readFileSync(new URL(`./lua/${name}`, import.meta.url), 'utf8');

/**
 * Batches in Redis under the tenant's hash tag: the batch object (JSON, written by whoever holds
 * the batch's lock), its lines in file order, the set of its jobs not yet seen ended, the counts and
 * token sums of those seen, and the progress of its background work; all expire with the
 * retention of jobs.
 */
export class BatchStore {
  readonly #redis: Redis & BatchCommands;

  constructor(
    redis: Redis,
    private readonly retentionMs: number,
  ) {
    const commands = redis as Redis & BatchCommands;
    if (typeof commands.llmqBatchSettle !== 'function') {
      commands.defineCommand('llmqBatchSettle', { numberOfKeys: 2, lua: lua('batch-settle.lua') });
      commands.defineCommand('llmqBatchLockRenew', { numberOfKeys: 1, lua: lua('batch-lock-renew.lua') });
      commands.defineCommand('llmqBatchLockRelease', { numberOfKeys: 1, lua: lua('batch-lock-release.lua') });
    }
    this.#redis = commands;
  }

  /** Stores a new batch (validating, or failed at once) and indexes it. */
  async create(tenant: string, batch: BatchObject, choice: { lines?: 'defer' | 'run' } = {}): Promise<void> {
    const ttl = String(this.retentionMs);
    const transaction = this.#redis
      .multi()
      .set(batchKey(tenant, batch.id), JSON.stringify(batch), 'PX', ttl)
      .zadd(indexKey(tenant), 0, batch.id)
      .pexpire(indexKey(tenant), ttl);
    if (choice.lines !== undefined) {
      transaction
        .hset(progressKey(tenant, batch.id), BATCH_PROGRESS_FIELD.lines, choice.lines)
        .pexpire(progressKey(tenant, batch.id), ttl);
    }
    await transaction.exec();
  }

  /** The batch with its current counts and usage, and `cancelling` once a cancel is asked; null when there is none. */
  async get(tenant: string, id: string): Promise<BatchObject | null> {
    if (!isBatchId(id)) return null;
    const [[, raw] = [], [, counts] = [], [, cancelAt] = []] =
      (await this.#redis
        .multi()
        .get(batchKey(tenant, id))
        .hgetall(countsKey(tenant, id))
        .hget(progressKey(tenant, id), BATCH_PROGRESS_FIELD.cancelAt)
        .exec()) ?? [];
    if (typeof raw !== 'string') return null;
    // A batch stored before `usage` existed reads with zero usage (its counts hash fills it in).
    const batch = batchObjectSchema.parse({ usage: NO_USAGE, ...(JSON.parse(raw) as object) });
    const tally = (counts ?? {}) as Record<string, string>;
    const count = (field: string, fallback: number) => Number(tally[field] ?? fallback);
    batch.request_counts.completed = count('completed', batch.request_counts.completed);
    batch.request_counts.failed = count('failed', batch.request_counts.failed);
    const input = count('input_tokens', batch.usage.input_tokens);
    const output = count('output_tokens', batch.usage.output_tokens);
    batch.usage = {
      input_tokens: input,
      input_tokens_details: { cached_tokens: count('cached_tokens', batch.usage.input_tokens_details.cached_tokens) },
      output_tokens: output,
      output_tokens_details: {
        reasoning_tokens: count('reasoning_tokens', batch.usage.output_tokens_details.reasoning_tokens),
      },
      total_tokens: input + output,
    };
    // The cancel is asked in a field of its own: the batch object is written only under the lock.
    if (typeof cancelAt === 'string' && (batch.status === 'validating' || batch.status === 'in_progress')) {
      batch.status = 'cancelling';
      batch.cancelling_at = Math.floor(Number(cancelAt) / 1000);
    }
    return batch;
  }

  /** Writes the batch object; only the holder of the batch's lock calls this. */
  async save(tenant: string, batch: BatchObject): Promise<void> {
    await this.#redis.set(batchKey(tenant, batch.id), JSON.stringify(batch), 'KEEPTTL');
  }

  /** Asks for the batch's cancel; true when this call asked first. */
  async requestCancel(tenant: string, id: string, at: number): Promise<boolean> {
    return (await this.#redis.hsetnx(progressKey(tenant, id), BATCH_PROGRESS_FIELD.cancelAt, at)) === 1;
  }

  async progress(tenant: string, id: string): Promise<BatchProgress> {
    return parseBatchProgress(await this.#redis.hgetall(progressKey(tenant, id)));
  }

  async setProgress(tenant: string, id: string, fields: Partial<Record<keyof BatchProgress, string | number>>) {
    const pairs = Object.entries(fields).map(([name, value]) => [
      BATCH_PROGRESS_FIELD[name as keyof BatchProgress],
      String(value),
    ]);
    if (pairs.length > 0) await this.#redis.hset(progressKey(tenant, id), Object.fromEntries(pairs));
  }

  /** Drops what an interrupted intake wrote, so a retaken intake starts from nothing. */
  async clearLines(tenant: string, id: string): Promise<void> {
    await this.#redis.del(
      linesKey(tenant, id),
      requestsKey(tenant, id),
      pendingKey(tenant, id),
      problemsKey(tenant, id),
    );
  }

  /** Appends lines and their validated submissions (JSON, '' for a refused body) in file order. */
  async appendLines(tenant: string, id: string, lines: BatchLineRef[], requests: string[]): Promise<void> {
    if (lines.length === 0) return;
    const ttl = String(this.retentionMs);
    await this.#redis
      .multi()
      .rpush(linesKey(tenant, id), ...lines.map((line) => JSON.stringify(line)))
      .rpush(requestsKey(tenant, id), ...requests)
      .pexpire(linesKey(tenant, id), ttl)
      .pexpire(requestsKey(tenant, id), ttl)
      .exec();
  }

  /** Ends the intake: the batch in progress, its acceptance cursor at the first line. */
  async startProgress(tenant: string, batch: BatchObject, progress: { valid: number; refused: number }) {
    const ttl = String(this.retentionMs);
    await this.#redis
      .multi()
      .hset(progressKey(tenant, batch.id), {
        [BATCH_PROGRESS_FIELD.cursor]: 0,
        [BATCH_PROGRESS_FIELD.total]: batch.request_counts.total,
        [BATCH_PROGRESS_FIELD.valid]: progress.valid,
        [BATCH_PROGRESS_FIELD.accepted]: 0,
        [BATCH_PROGRESS_FIELD.rejected]: 0,
      })
      .pexpire(progressKey(tenant, batch.id), ttl)
      .del(countsKey(tenant, batch.id))
      .hset(countsKey(tenant, batch.id), 'completed', 0, 'failed', progress.refused)
      .pexpire(countsKey(tenant, batch.id), ttl)
      .set(batchKey(tenant, batch.id), JSON.stringify(batch), 'KEEPTTL')
      .exec();
  }

  /** The batch's lines in file order, `count` from `start`. */
  async lines(tenant: string, id: string, start: number, count: number): Promise<BatchLineRef[]> {
    const raw = await this.#redis.lrange(linesKey(tenant, id), start, start + count - 1);
    return raw.map((line) => JSON.parse(line) as BatchLineRef);
  }

  /** The validated submissions (JSON) of `count` lines from `start`; '' for a line refused at validation. */
  async requests(tenant: string, id: string, start: number, count: number): Promise<string[]> {
    return this.#redis.lrange(requestsKey(tenant, id), start, start + count - 1);
  }

  /**
   * Records one accepted chunk, atomically with the cursor's move: its jobs become pending and
   * lines refused by the job checks are counted failed. A chunk retaken after a crash is recorded once.
   */
  async commitChunk(
    tenant: string,
    id: string,
    chunk: { jobIds: string[]; problems: Map<number, string>; next: number },
  ): Promise<void> {
    const ttl = String(this.retentionMs);
    const transaction = this.#redis.multi();
    if (chunk.jobIds.length > 0) {
      transaction.sadd(pendingKey(tenant, id), ...chunk.jobIds).pexpire(pendingKey(tenant, id), ttl);
    }
    if (chunk.problems.size > 0) {
      transaction
        .hset(problemsKey(tenant, id), Object.fromEntries(chunk.problems))
        .pexpire(problemsKey(tenant, id), ttl)
        .hincrby(countsKey(tenant, id), 'failed', chunk.problems.size);
    }
    await transaction
      .hincrby(progressKey(tenant, id), BATCH_PROGRESS_FIELD.accepted, chunk.jobIds.length)
      .hincrby(progressKey(tenant, id), BATCH_PROGRESS_FIELD.rejected, chunk.problems.size)
      .hset(progressKey(tenant, id), BATCH_PROGRESS_FIELD.cursor, chunk.next)
      .exec();
  }

  /** Stops the acceptance at line `at`: the lines not accepted are counted failed, the submissions dropped. */
  async stopAcceptance(
    tenant: string,
    id: string,
    stop: { at: number; reason: string; message: string; notAccepted: number },
  ): Promise<void> {
    await this.#redis
      .multi()
      .hset(progressKey(tenant, id), {
        [BATCH_PROGRESS_FIELD.stoppedAt]: stop.at,
        [BATCH_PROGRESS_FIELD.stopReason]: stop.reason,
        [BATCH_PROGRESS_FIELD.stopMessage]: stop.message,
      })
      .hincrby(countsKey(tenant, id), 'failed', stop.notAccepted)
      .del(requestsKey(tenant, id))
      .exec();
  }

  /** Frees the submissions once every line is accepted. */
  async dropRequests(tenant: string, id: string): Promise<void> {
    await this.#redis.del(requestsKey(tenant, id));
  }

  /** Why lines were refused at acceptance, by line index, for the given indexes. */
  async problems(tenant: string, id: string, indexes: number[]): Promise<Map<number, string>> {
    if (indexes.length === 0) return new Map();
    const raw = await this.#redis.hmget(problemsKey(tenant, id), ...indexes.map(String));
    const found = new Map<number, string>();
    for (const [position, problem] of raw.entries()) {
      const index = indexes[position];
      if (typeof problem === 'string' && index !== undefined) found.set(index, problem);
    }
    return found;
  }

  /** Up to `count` of the batch's jobs not yet seen ended, at random. */
  pendingSample(tenant: string, id: string, count: number): Promise<string[]> {
    return this.#redis.srandmember(pendingKey(tenant, id), count);
  }

  pendingCount(tenant: string, id: string): Promise<number> {
    return this.#redis.scard(pendingKey(tenant, id));
  }

  /** Counts a job's end once, whoever sees it first; a completed line adds its tokens to the batch's usage. */
  async settle(
    tenant: string,
    id: string,
    jobId: string,
    outcome: 'completed' | 'failed',
    usage?: LineUsage,
  ): Promise<boolean> {
    const increments = usage ? USAGE_FIELDS.flatMap((field) => [field, String(usage[field])]) : [];
    const settled = await this.#redis.llmqBatchSettle(
      pendingKey(tenant, id),
      countsKey(tenant, id),
      jobId,
      outcome,
      ...increments,
    );
    return settled === 1;
  }

  /** Takes the batch's lock for `ms` unless another holder has it; `token` names the holder. */
  async lock(tenant: string, id: string, token: string, ms: number): Promise<boolean> {
    return (await this.#redis.set(lockKey(tenant, id), token, 'PX', ms, 'NX')) === 'OK';
  }

  /** Extends the lock (taking it back if it expired and is free); false when another holder took it. */
  async renewLock(tenant: string, id: string, token: string, ms: number): Promise<boolean> {
    return (await this.#redis.llmqBatchLockRenew(lockKey(tenant, id), token, String(ms))) === 1;
  }

  async unlock(tenant: string, id: string, token: string): Promise<void> {
    await this.#redis.llmqBatchLockRelease(lockKey(tenant, id), token);
  }

  /** A page of batch ids, newest first, after `after`. */
  async ids(tenant: string, limit: number, after?: string): Promise<string[]> {
    return this.#redis.zrevrangebylex(
      indexKey(tenant),
      after === undefined ? '+' : `(${after}`,
      '-',
      'LIMIT',
      0,
      limit,
    );
  }
}
