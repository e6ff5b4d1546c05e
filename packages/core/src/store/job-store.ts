import type { Redis } from 'ioredis';
import { toJobSpendObject } from '../cost/job-spend.js';
import type { JobObject, JobStatus } from '../jobs/job-object.js';
import { isEnded, JOB_STATUSES } from '../jobs/job-object.js';
import type { JobSubmission } from '../jobs/job-submission-schema.js';
import { lowestJobIdAt } from '../jobs/job-id.js';
import { JOB_EVENTS_CHANNEL, jobIndexPrefix, jobOutboxKey, jobRecordKey, TENANTS_KEY } from './job-keys.js';
import { parseJobRecord, RECORD_FIELD, type JobRecord } from './job-record-fields.js';
import { readLuaScript } from './lua-scripts.js';

export type { JobRecord } from './job-record-fields.js';

interface StoreCommands {
  llmqCreateJob(record: string, allJobs: string, statusIndex: string, ...args: string[]): Promise<number>;
  llmqTransitionJob(numberOfKeys: number, ...keysAndArgs: string[]): Promise<string[]>;
}

export interface JobStoreOptions {
  redis: Redis;
  /** How long an ended job stays readable, in milliseconds. Default: 7 days. */
  retentionMs?: number;
}

export type TransitionOutcome =
  | { outcome: 'ok'; record: JobRecord | null }
  | { outcome: 'missing' }
  | { outcome: 'conflict'; current: JobStatus }
  /** `run` named a run that no longer owns the job: another worker took it over. */
  | { outcome: 'superseded'; current: JobStatus };

export interface TransitionOptions {
  tenant: string;
  jobId: string;
  to: JobStatus;
  from: readonly JobStatus[];
  /** Fields to write; see transition-job.lua for the `+`, `?` and `-` prefixes. */
  fields?: Record<string, string | number>;
  returnRecord?: boolean;
  /**
   * The run (its BullMQ lock token) that must own the job for the change to happen; the record's
   * `run` field names the owner, written by a start with `fields: { run }`. Default: any.
   */
  run?: string;
  /** Counters beside the record, changed in the same atomic step, only if the transition happens. */
  counters?: readonly CounterChange[];
}

/** A change to a hash of the job's tenant (same hash tag as the record), e.g. usage totals or a budget. */
export interface CounterChange {
  key: string;
  field: string;
  /** An integer, or the value of a numeric record field (0 when absent), negated on request. */
  by: number | { recordField: string; negate?: boolean };
  /** Makes `key` expire this long after the change, ms. Default: no expiry is set. */
  keyTtlMs?: number;
}

export interface ListOptions {
  tenant: string;
  status?: JobStatus | undefined;
  /** Return jobs older than this id (the previous page's `next_cursor`). */
  after?: string | undefined;
  limit: number;
}

const DEFAULT_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

/** Job records in Redis: the source of truth for the job object, apart from BullMQ's own state. */
export class JobStore {
  readonly #redis: Redis & StoreCommands;
  readonly retentionMs: number;
  /** Tenants this process has registered in TENANTS_KEY: one SADD per tenant per process. */
  readonly #registered = new Set<string>();

  constructor(options: JobStoreOptions) {
    this.retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
    const redis = options.redis as Redis & StoreCommands;
    if (typeof redis.llmqTransitionJob !== 'function') {
      // The record, the tenant's index of all jobs and that of the initial status.
      redis.defineCommand('llmqCreateJob', {
        numberOfKeys: 3,
        lua: readLuaScript(new URL('./lua/create-job.lua', import.meta.url)),
      });
      // The record, the outbox, the status indexes the move may touch and any counter hashes: the
      // key count is the first argument of each call.
      redis.defineCommand('llmqTransitionJob', {
        lua: readLuaScript(new URL('./lua/transition-job.lua', import.meta.url)),
      });
    }
    this.#redis = redis;
  }

  /** Writes a new queued job; false when the id is taken. */
  async create(options: {
    tenant: string;
    jobId: string;
    submission: JobSubmission;
    createdAt: number;
    /** More fields of the record (e.g. the budget reservation). Default: none. */
    extraFields?: Record<string, string>;
  }): Promise<JobRecord | null> {
    const stored: Record<string, string> = {
      [RECORD_FIELD.tenant]: options.tenant,
      [RECORD_FIELD.submission]: JSON.stringify(options.submission),
      [RECORD_FIELD.model]: options.submission.request.model,
      [RECORD_FIELD.createdAt]: String(options.createdAt),
      [RECORD_FIELD.attempts]: '0',
      // Lets the webhook enqueue see whether there is a webhook without reading the submission.
      [RECORD_FIELD.webhookUrl]: options.submission.webhook?.url ?? '',
      ...options.extraFields,
    };
    const prefix = jobIndexPrefix(options.tenant);
    const created = await this.#redis.llmqCreateJob(
      jobRecordKey(options.tenant, options.jobId),
      prefix,
      `${prefix}:queued`,
      options.jobId,
      'queued',
      ...Object.entries(stored).flat(),
    );
    if (created === 1 && !this.#registered.has(options.tenant)) {
      await this.#redis.sadd(TENANTS_KEY, options.tenant);
      this.#registered.add(options.tenant);
    }
    // The record as written, without reading it back.
    return created === 1
      ? parseJobRecord({ ...stored, [RECORD_FIELD.id]: options.jobId, [RECORD_FIELD.status]: 'queued' })
      : null;
  }

  /** Removes a record that never reached the queue (the enqueue after `create` failed). */
  async discard(tenant: string, jobId: string): Promise<void> {
    const prefix = jobIndexPrefix(tenant);
    const pipeline = this.#redis.multi().del(jobRecordKey(tenant, jobId)).zrem(prefix, jobId);
    for (const status of JOB_STATUSES) pipeline.zrem(`${prefix}:${status}`, jobId);
    await pipeline.exec();
  }

  async get(tenant: string, jobId: string): Promise<JobRecord | null> {
    const fields = await this.#redis.hgetall(jobRecordKey(tenant, jobId));
    return parseJobRecord(fields);
  }

  async transition(options: TransitionOptions): Promise<TransitionOutcome> {
    const args: string[] = [
      options.to,
      options.from.join(','),
      String(isEnded(options.to) ? this.retentionMs : 0),
      JOB_EVENTS_CHANNEL,
      options.returnRecord ? '1' : '0',
      options.run ?? '',
    ];
    for (const [field, value] of Object.entries(options.fields ?? {})) args.push(field, String(value));
    // Every transition announces itself once: the count orders the events (SSE event ids).
    args.push(`+${RECORD_FIELD.transitions}`, '1');
    // Every key the script may touch is declared (Redis Cluster routes a script by its keys): the
    // index of `to`, then those of the `from` statuses in order, the one the job leaves among them.
    const prefix = jobIndexPrefix(options.tenant);
    const keys = [
      jobRecordKey(options.tenant, options.jobId),
      jobOutboxKey(options.tenant),
      `${prefix}:${options.to}`,
      ...options.from.map((status) => `${prefix}:${status}`),
    ];
    for (const counter of options.counters ?? []) {
      let position = keys.indexOf(counter.key) + 1;
      if (position === 0) position = keys.push(counter.key);
      const by =
        typeof counter.by === 'number'
          ? String(counter.by)
          : `${counter.by.negate ? '-' : ''}$${counter.by.recordField}`;
      args.push(`^${position}:${counter.field}`, by);
      if (counter.keyTtlMs !== undefined) args.push(`~${position}`, String(counter.keyTtlMs));
    }
    const reply = await this.#redis.llmqTransitionJob(keys.length, ...keys, ...args);
    const [outcome, ...rest] = reply;
    if (outcome === 'missing') return { outcome: 'missing' };
    if (outcome === 'conflict') return { outcome: 'conflict', current: rest[0] as JobStatus };
    if (outcome === 'superseded') return { outcome: 'superseded', current: rest[0] as JobStatus };
    return { outcome: 'ok', record: options.returnRecord ? parseJobRecord(pairsToObject(rest)) : null };
  }

  /** Newest first; records that expired are dropped from the index as they are met. */
  async list(options: ListOptions): Promise<{ records: JobRecord[]; hasMore: boolean }> {
    const prefix = jobIndexPrefix(options.tenant);
    const index = options.status ? `${prefix}:${options.status}` : prefix;
    const records: JobRecord[] = [];
    let upper = options.after ? `(${options.after}` : '+';
    // A page can meet expired entries; read on until it is full or the index ends.
    for (let round = 0; round < 10; round += 1) {
      const want = options.limit - records.length + 1;
      const ids = await this.#redis.zrevrangebylex(index, upper, '-', 'LIMIT', 0, want);
      if (ids.length === 0) return { records, hasMore: false };
      const pipeline = this.#redis.pipeline();
      for (const id of ids) pipeline.hgetall(jobRecordKey(options.tenant, id));
      const replies = (await pipeline.exec()) ?? [];
      const stale: string[] = [];
      for (const [position, id] of ids.entries()) {
        const record = parseJobRecord((replies[position]?.[1] ?? {}) as Record<string, string>);
        if (record === null) stale.push(id);
        else if (records.length < options.limit) records.push(record);
        else return { records, hasMore: true };
      }
      if (stale.length > 0) await this.#removeFromIndexes(prefix, stale);
      if (ids.length < want) return { records, hasMore: false };
      upper = `(${ids[ids.length - 1] ?? ''}`;
    }
    return { records, hasMore: true };
  }

  /** Every tenant that has submitted a job. */
  async tenants(): Promise<string[]> {
    return this.#redis.smembers(TENANTS_KEY);
  }

  /** Ids of a tenant's jobs in `status` created before `beforeMs`, oldest first, at most `limit`. */
  async idsCreatedBefore(tenant: string, status: JobStatus, beforeMs: number, limit: number): Promise<string[]> {
    const index = `${jobIndexPrefix(tenant)}:${status}`;
    return this.#redis.zrangebylex(index, '-', `(${lowestJobIdAt(beforeMs)}`, 'LIMIT', 0, limit);
  }

  async #removeFromIndexes(prefix: string, ids: string[]): Promise<void> {
    const pipeline = this.#redis.pipeline().zrem(prefix, ...ids);
    for (const status of JOB_STATUSES) pipeline.zrem(`${prefix}:${status}`, ...ids);
    await pipeline.exec();
  }
}

function pairsToObject(pairs: string[]): Record<string, string> {
  const object: Record<string, string> = {};
  for (let index = 0; index + 1 < pairs.length; index += 2) object[pairs[index] as string] = pairs[index + 1] as string;
  return object;
}

const toSeconds = (milliseconds: number | null) => (milliseconds === null ? null : Math.floor(milliseconds / 1000));

/** The public job object of a record. */
export function toJobObject(record: JobRecord): JobObject {
  const { submission } = record;
  return {
    id: record.id,
    object: 'job',
    type: submission.type,
    status: record.status,
    model: submission.request.model,
    fallbacks: submission.fallbacks ?? [],
    attempts: record.attempts,
    attempt_log: record.attemptLog,
    answered_by: record.answeredBy,
    account: record.account,
    metadata: submission.metadata ?? {},
    webhook: submission.webhook
      ? { url: submission.webhook.url, status: record.webhookStatus ?? 'pending', deliveries: record.webhookDeliveries }
      : null,
    created_at: toSeconds(record.createdAt) ?? 0,
    started_at: toSeconds(record.startedAt),
    finished_at: toSeconds(record.finishedAt),
    waiting_for: record.status === 'queued' ? record.waitingFor : null,
    earliest_start_at:
      record.status === 'queued' && record.earliestStartAt !== null ? Math.ceil(record.earliestStartAt / 1000) : null,
    provider_batch:
      record.providerBatch === null
        ? null
        : { id: record.providerBatch.id, sent_at: Math.floor(record.providerBatch.sentAt / 1000) },
    result: record.result,
    error: record.error,
    usage: record.usage,
    ...toJobSpendObject(record.spend, isEnded(record.status)),
  };
}
