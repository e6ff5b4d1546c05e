import { randomUUID } from 'node:crypto';
import type { ChainableCommander, Redis } from 'ioredis';
import { KEY_NAMESPACE, tenantTag, type JobUsage, type ProviderErrorKind } from '@llmq/core';
import type { ChatCompletionResult, EmbeddingResult } from '@llmq/core';
import type { BatchEndpoint } from './provider-batch-api.js';

/** A job in a group: its tenant and id. */
export interface BatchMember {
  tenant: string;
  jobId: string;
  /** Its prompt tokens, counted when it joined, where the model's enqueued tokens are bounded. */
  tokens?: number;
}

/** Where one deferrable job stands on the batch path. */
export type LineState =
  | { state: 'gathered' }
  | { state: 'sent'; batchId: string; sentAt: number; intent: string }
  | { state: 'answered'; result: ChatCompletionResult | EmbeddingResult; usage: JobUsage; batchId: string }
  | { state: 'failed'; error: { kind: ProviderErrorKind; message: string; status?: number }; batchId: string }
  /** Not answered by its batch (expired, canceled, never sent): it runs synchronously. */
  | { state: 'left'; reason: string };

/** A set of taken jobs on its way to (or at) the provider. */
export interface BatchIntent {
  id: string;
  group: string;
  members: BatchMember[];
  /** The members as stored (tenant, job id, deadline). */
  rawMembers: string[];
  /** Earliest deadline among the members, ms. */
  deadlineAt: number;
  createdAt: number;
  batchId: string | null;
  sentAt: number | null;
  pollDelayMs: number;
  /** The batch is to be canceled: a member's deadline is near. */
  cancel: boolean;
}

// Every key of the batch path's own bookkeeping shares one hash tag, so one script may take a
// group's jobs and file them under an intent; a job's line state lives with its record.
const TAG = `${KEY_NAMESPACE}:{pb}`;
const groupsKey = `${TAG}:groups`;
const pendingKey = (group: string) => `${TAG}:pending:${group}`;
const intentKey = (id: string) => `${TAG}:intent:${id}`;
/** Intents by the time they are next looked at (a poll, or a send that never finished). */
const dueKey = `${TAG}:due`;
const lockKey = (name: string) => `${TAG}:lock:${name}`;
/** Prompt tokens each of a model's sent (or being sent) intents holds at the provider, by intent id. */
const enqueuedKey = (model: string) => `${TAG}:enqueued:${model}`;
const lineKey = (tenant: string, jobId: string) => `${tenantTag(tenant)}:pbline:${jobId}`;

/** How long a job's line state is kept after its last write: longer than any completion window. */
const LINE_TTL_MS = 3 * 24 * 3600 * 1000;

/** Group id: the provider, model and endpoint a batch is made for. */
export const groupOf = (provider: string, modelId: string, endpoint: BatchEndpoint) =>
  `${provider}|${modelId}|${endpoint}`;
export const parseGroup = (group: string) => {
  const [provider = '', modelId = '', endpoint = 'chat'] = group.split('|');
  return {
    provider,
    modelId,
    endpoint: (endpoint === 'embedding' ? 'embedding' : 'chat') as BatchEndpoint,
    model: `${provider}/${modelId}`,
  };
};

/** A pending member as stored: tenant, job id, deadline (ms) and, where counted, prompt tokens. */
type StoredMember = [string, string, number, number?];
const storedMember = (member: BatchMember, deadlineAt: number) =>
  JSON.stringify(
    member.tokens === undefined
      ? [member.tenant, member.jobId, deadlineAt]
      : [member.tenant, member.jobId, deadlineAt, member.tokens],
  );
const memberOf = (raw: string): BatchMember => {
  const [tenant, jobId, , tokens] = JSON.parse(raw) as StoredMember;
  return tokens === undefined ? { tenant, jobId } : { tenant, jobId, tokens };
};

// Files an intent's prompt tokens under its model (again, for the same intent: replaced) when the
// model's other intents leave room under ARGV[3] (0: no bound); 1 when held, 0 when there is no room.
const HOLD = `
local held = 0
local entries = redis.call('HGETALL', KEYS[1])
for i = 1, #entries, 2 do
  if entries[i] ~= ARGV[1] then held = held + tonumber(entries[i + 1]) end
end
if tonumber(ARGV[3]) > 0 and held + tonumber(ARGV[2]) > tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`;

// Takes up to ARGV[1] of the group's oldest jobs and files them under a new intent, atomically,
// so that a job is in one intent at most; the intent is due for a look at ARGV[7].
const TAKE = `
local members = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
if #members == 0 then return 0 end
redis.call('ZREM', KEYS[1], unpack(members))
redis.call('HSET', KEYS[2], 'group', ARGV[2], 'members', cjson.encode(members), 'created_at', ARGV[3],
  'deadline_at', ARGV[4], 'poll_delay_ms', ARGV[5])
redis.call('ZADD', KEYS[3], ARGV[7], ARGV[6])
return #members
`;

/** The batch path's Redis state: groups of gathered jobs, intents (batches being sent or polled), and each job's line. */
export class ProviderBatchStore {
  constructor(private readonly redis: Redis) {}

  /** Adds a job to its group (once) and notes it gathered. */
  async gather(group: string, member: BatchMember, deadlineAt: number): Promise<void> {
    await this.redis
      .multi()
      .zadd(pendingKey(group), 'NX', Date.now(), storedMember(member, deadlineAt))
      .sadd(groupsKey, group)
      .exec();
    await this.writeLine(member, { state: 'gathered' });
  }

  async groups(): Promise<string[]> {
    return this.redis.smembers(groupsKey);
  }

  /** Jobs waiting in a group, when the oldest came (ms; null when none) and the oldest itself. */
  async groupSize(group: string): Promise<{ count: number; oldestAt: number | null; oldest: BatchMember | null }> {
    const [[, count] = [], [, first] = []] =
      (await this.redis.multi().zcard(pendingKey(group)).zrange(pendingKey(group), 0, 0, 'WITHSCORES').exec()) ?? [];
    const [raw, score] = (first as string[] | undefined) ?? [];
    return {
      count: Number(count ?? 0),
      oldestAt: score === undefined ? null : Number(score),
      oldest: raw === undefined ? null : memberOf(raw),
    };
  }

  /**
   * Files up to `max` of a group's oldest jobs under a new intent, due for a look in `dueInMs`
   * (when its sender, had it died, is taken over); null when the group is empty.
   */
  async take(group: string, max: number, pollDelayMs: number, dueInMs: number): Promise<BatchIntent | null> {
    const id = randomUUID();
    const now = Date.now();
    const peek = await this.redis.zrange(pendingKey(group), 0, max - 1);
    const deadlines = peek.map((raw) => (JSON.parse(raw) as StoredMember)[2]);
    const deadlineAt = deadlines.length > 0 ? Math.min(...deadlines) : now;
    const taken = (await this.redis.eval(
      TAKE,
      3,
      pendingKey(group),
      intentKey(id),
      dueKey,
      max,
      group,
      now,
      deadlineAt,
      pollDelayMs,
      id,
      now + dueInMs,
    )) as number;
    if (taken === 0) return null;
    return this.intent(id);
  }

  async intent(id: string): Promise<BatchIntent | null> {
    const fields = await this.redis.hgetall(intentKey(id));
    if (fields.group === undefined || fields.members === undefined) return null;
    const rawMembers = JSON.parse(fields.members) as string[];
    const members = rawMembers.map(memberOf);
    return {
      id,
      group: fields.group,
      members,
      rawMembers,
      deadlineAt: Number(fields.deadline_at ?? 0),
      createdAt: Number(fields.created_at ?? 0),
      batchId: fields.batch_id ?? null,
      sentAt: fields.sent_at === undefined ? null : Number(fields.sent_at),
      pollDelayMs: Number(fields.poll_delay_ms ?? 5_000),
      cancel: fields.cancel === '1',
    };
  }

  /** Puts jobs taken into an intent back into its group (they did not fit its batch). */
  async regather(intent: BatchIntent, members: BatchMember[]): Promise<void> {
    await this.#remove(
      intent,
      members,
      this.redis
        .multi()
        .zadd(
          pendingKey(intent.group),
          ...members.flatMap((member) => [intent.createdAt, storedMember(member, intent.deadlineAt)]),
        ),
    );
  }

  /** Takes jobs out of an intent for good (their line says where they went). */
  async drop(intent: BatchIntent, members: BatchMember[]): Promise<void> {
    await this.#remove(intent, members, this.redis.multi());
  }

  async #remove(intent: BatchIntent, members: BatchMember[], transaction: ChainableCommander): Promise<void> {
    const gone = new Set(members.map((member) => member.jobId));
    const rawMembers = intent.rawMembers.filter((raw) => !gone.has(memberOf(raw).jobId));
    await transaction.hset(intentKey(intent.id), 'members', JSON.stringify(rawMembers)).exec();
    intent.rawMembers = rawMembers;
    intent.members = intent.members.filter((member) => !gone.has(member.jobId));
  }

  /** Records the provider's batch id: from here on no worker creates it again. */
  async sent(intent: BatchIntent, batchId: string, at: number): Promise<void> {
    await this.redis
      .multi()
      .hset(intentKey(intent.id), 'batch_id', batchId, 'sent_at', at)
      .zadd(dueKey, at + intent.pollDelayMs, intent.id)
      .exec();
  }

  /** Intents due to be looked at now, oldest first. */
  async due(limit: number): Promise<string[]> {
    return this.redis.zrangebyscore(dueKey, '-inf', Date.now(), 'LIMIT', 0, limit);
  }

  /** Looks at an intent again in `delayMs` (and keeps that as its poll interval). */
  async later(intent: BatchIntent, delayMs: number): Promise<void> {
    await this.redis
      .multi()
      .hset(intentKey(intent.id), 'poll_delay_ms', delayMs)
      .zadd(dueKey, Date.now() + delayMs, intent.id)
      .exec();
  }

  /** Asks whoever polls the intent to cancel its batch. */
  async requestCancel(intentId: string): Promise<void> {
    await this.redis.hset(intentKey(intentId), 'cancel', '1');
  }

  /**
   * Holds `tokens` of the model's enqueued-token bound for the intent, before its batch is
   * created; false when the model's other intents leave no room under `limit`. `limit` undefined:
   * held whatever the others hold (a batch already at the provider is counted as it is).
   */
  async hold(intent: BatchIntent, tokens: number, limit: number | undefined): Promise<boolean> {
    const key = enqueuedKey(parseGroup(intent.group).model);
    return (await this.redis.eval(HOLD, 1, key, intent.id, tokens, limit ?? 0)) === 1;
  }

  /** Prompt tokens a model's intents hold at the provider, leaving out `except`'s own. */
  async enqueued(model: string, except?: string): Promise<number> {
    const held = await this.redis.hgetall(enqueuedKey(model));
    return Object.entries(held).reduce((sum, [id, tokens]) => (id === except ? sum : sum + Number(tokens)), 0);
  }

  /** The intent is done: every member's line has its outcome, and what it held is free. */
  async finish(intent: BatchIntent): Promise<void> {
    await this.redis
      .multi()
      .zrem(dueKey, intent.id)
      .del(intentKey(intent.id))
      .hdel(enqueuedKey(parseGroup(intent.group).model), intent.id)
      .exec();
  }

  /** One holder at a time for `ms`; false when another has it. */
  async lock(name: string, ms: number): Promise<string | null> {
    const token = randomUUID();
    return (await this.redis.set(lockKey(name), token, 'PX', ms, 'NX')) === 'OK' ? token : null;
  }

  async unlock(name: string, token: string): Promise<void> {
    await this.redis.eval(
      "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
      1,
      lockKey(name),
      token,
    );
  }

  async line(member: BatchMember): Promise<LineState | null> {
    const raw = await this.redis.get(lineKey(member.tenant, member.jobId));
    if (raw === null) return null;
    try {
      return JSON.parse(raw) as LineState;
    } catch {
      return { state: 'left', reason: 'its batch state could not be read' };
    }
  }

  async writeLine(member: BatchMember, state: LineState): Promise<void> {
    await this.redis.set(lineKey(member.tenant, member.jobId), JSON.stringify(state), 'PX', LINE_TTL_MS);
  }
}
