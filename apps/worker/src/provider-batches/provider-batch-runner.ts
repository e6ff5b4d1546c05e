import { setTimeout as sleep } from 'node:timers/promises';
import type { Queue } from 'bullmq';
import {
  isEnded,
  JobLifecycle,
  ProviderError,
  type BatchingConfig,
  type JobStore,
  type LlmJobData,
  type Logger,
} from '@llmq/core';
import type { BatchLine, ProviderBatchApi } from './provider-batch-api.js';
import type { ProviderBatchMetrics } from './provider-batch-metrics.js';
import {
  parseGroup,
  type BatchIntent,
  type BatchMember,
  type LineState,
  type ProviderBatchStore,
} from './provider-batch-store.js';

export interface ProviderBatchRunnerOptions {
  store: ProviderBatchStore;
  jobs: JobStore;
  queue: Queue<LlmJobData>;
  /** The batch API of each provider that has one, by provider name. */
  apis: ReadonlyMap<string, ProviderBatchApi>;
  config: BatchingConfig;
  logger: Logger;
  /** How often groups and due intents are looked at, ms. Default 1 s. */
  tickMs?: number;
  /** Where batches sent and ended are counted. Default: nowhere. */
  metrics?: ProviderBatchMetrics;
  /** Prompt tokens a model's batches may have enqueued at the provider at once (`provider/model`); undefined: unbounded. */
  enqueuedTokenLimit?: (model: string) => number | undefined;
}

/** A send or a poll holds its lock this long; a worker that dies with it lets another take over after it. */
const LOCK_MS = 120_000;
/** Bytes of a line around its body (custom_id, method, url). */
const LINE_OVERHEAD_BYTES = 128;
/** A batch that could not be created for this long gives its jobs back to the synchronous path. */
const GIVE_UP_SEND_MS = 10 * 60_000;
/** Intents looked at per tick. */
const DUE_PER_TICK = 20;

/**
 * The batch path's moving parts, run in every worker, each step under a lock so one worker does
 * it: groups of gathered jobs are sent as provider batches when full or old enough; each sent
 * batch is polled, more slowly as it ages, and canceled when a job's deadline nears; an ended
 * batch's lines are written to their jobs, which are then woken to end through the normal path.
 */
export function startProviderBatchRunner(options: ProviderBatchRunnerOptions): { close(): Promise<void> } {
  const { store, config, logger } = options;
  const lifecycle = new JobLifecycle(options.jobs);
  const tickMs = options.tickMs ?? 1_000;
  const pollFirstMs = config.poll_first_s * 1000;
  let closed = false;

  /** Wakes a job parked on its batch so it ends now rather than at its next check. */
  const wake = async (member: BatchMember) => {
    const job = await options.queue.getJob(member.jobId);
    if (job === undefined) return;
    await job.promote().catch(() => undefined);
  };

  const flushGroups = async () => {
    for (const group of await store.groups()) {
      const api = options.apis.get(parseGroup(group).provider);
      if (api === undefined) continue;
      const max = Math.min(config.max_requests, api.maxRequests);
      const { count, oldestAt, oldest } = await store.groupSize(group);
      if (oldestAt === null) continue;
      if (count < max && Date.now() - oldestAt < config.max_wait_s * 1000) continue;
      if (await heldBack(group, oldest?.tokens)) continue;
      const token = await store.lock(`flush:${group}`, LOCK_MS);
      if (token === null) continue;
      try {
        // Due for a look only once the send's lock could have lapsed: a sender that died is taken over then.
        const intent = await store.take(group, max, pollFirstMs, LOCK_MS);
        if (intent !== null) await underIntentLock(intent.id, () => send(intent, api, 'fresh'));
      } finally {
        await store.unlock(`flush:${group}`, token);
      }
    }
  };

  /**
   * Whether a group waits for its model's earlier batches to end: the prompt tokens they hold at
   * the provider leave no room for its oldest job. A job larger than the whole bound is not held
   * (it leaves for the synchronous path when its batch is built).
   */
  const heldBack = async (group: string, oldestTokens: number | undefined): Promise<boolean> => {
    const { model } = parseGroup(group);
    const limit = options.enqueuedTokenLimit?.(model);
    if (limit === undefined) return false;
    const held = await store.enqueued(model);
    options.metrics?.enqueuedTokens?.({ model, tokens: held });
    return oldestTokens !== undefined && oldestTokens <= limit && held + oldestTokens > limit;
  };

  /** Builds an intent's lines and creates its batch at the provider, unless a crashed send already did. */
  /**
   * `fresh`: the intent was just taken, nobody sent it. `taken over`: its sender died after taking
   * it, perhaps after creating its batch, so the provider is asked for a batch of this intent first.
   */
  const send = async (intent: BatchIntent, api: ProviderBatchApi, origin: 'fresh' | 'taken over') => {
    const { modelId, model, endpoint } = parseGroup(intent.group);
    const existing = origin === 'taken over' ? await api.findByIntent(intent.id) : null;
    const limit = options.enqueuedTokenLimit?.(model);
    // A batch the provider already has is counted as it is; a new one takes what the model's others leave.
    const room = limit === undefined || existing !== null ? Infinity : limit - (await store.enqueued(model, intent.id));
    const lines: BatchLine[] = [];
    const members: BatchMember[] = [];
    const over: BatchMember[] = [];
    /** Jobs that leave the intent for good: too large for any batch, or not expressible in one. */
    const dropped: BatchMember[] = [];
    let bytes = 0;
    let tokens = 0;
    for (const member of intent.members) {
      const record = await options.jobs.get(member.tenant, member.jobId);
      if (record === null || isEnded(record.status) || record.submission.type !== endpoint) continue;
      const memberTokens = member.tokens ?? 0;
      if (limit !== undefined && memberTokens > limit) {
        // No batch of this model could take it: it runs synchronously.
        await store.writeLine(member, {
          state: 'left',
          reason: `its ${memberTokens} prompt tokens exceed ${model}'s batch_enqueued_tokens (${limit})`,
        });
        await wake(member);
        dropped.push(member);
        continue;
      }
      const { submission } = record;
      let body: unknown;
      try {
        body =
          submission.type === 'chat'
            ? api.chatLine(submission.request, modelId)
            : api.embeddingLine?.(submission.request, modelId);
      } catch (error) {
        // A request the provider's batch format cannot carry ends its own job, not the batch.
        const failure =
          error instanceof ProviderError
            ? error
            : new ProviderError({ provider: api.provider, kind: 'invalid_request', message: String(error) });
        const line: LineState = failure.retryable
          ? { state: 'left', reason: failure.message }
          : { state: 'failed', error: { kind: failure.kind, message: failure.message }, batchId: '' };
        await store.writeLine(member, line);
        await wake(member);
        dropped.push(member);
        continue;
      }
      bytes += Buffer.byteLength(JSON.stringify(body)) + LINE_OVERHEAD_BYTES;
      // Past the byte bound (the config's or the provider's, the lower) or the room under the
      // model's enqueued tokens, the rest waits for the group's next batch.
      if ((bytes > Math.min(config.max_bytes, api.maxBytes) && lines.length > 0) || tokens + memberTokens > room) {
        over.push(member);
        continue;
      }
      tokens += memberTokens;
      lines.push({ customId: member.jobId, body });
      members.push(member);
    }
    if (dropped.length > 0) await store.drop(intent, dropped);
    if (over.length > 0 && existing === null) await store.regather(intent, over);
    if (lines.length === 0) {
      await store.finish(intent);
      return;
    }
    if (limit !== undefined && !(await store.hold(intent, tokens, existing === null ? limit : undefined))) {
      // Another intent of the model took the room meanwhile: these jobs wait for the next batch.
      await store.regather(intent, members);
      await store.finish(intent);
      return;
    }
    let batchId: string;
    try {
      batchId = existing ?? (await api.create({ modelId, lines, intent: intent.id, endpoint }));
    } catch (error) {
      // A refusal that will not change, or a send failing for too long: its jobs run synchronously.
      if ((error instanceof ProviderError && !error.retryable) || Date.now() - intent.createdAt > GIVE_UP_SEND_MS) {
        const reason = error instanceof Error ? error.message : String(error);
        await leave(intent, `its provider batch could not be created: ${reason}`);
        return;
      }
      await store.later(intent, Math.min(intent.pollDelayMs * 2, config.poll_max_s * 1000));
      throw error;
    }
    const sentAt = Date.now();
    await store.sent(intent, batchId, sentAt);
    logger.info({ batchId, intent: intent.id, requests: lines.length, group: intent.group }, 'provider batch sent');
    options.metrics?.batchSent({ provider: api.provider, requests: lines.length });
    for (const member of members) {
      await store.writeLine(member, { state: 'sent', batchId, sentAt, intent: intent.id });
      await lifecycle.noteProviderBatch({ ...member, batchId, sentAt }).catch(() => undefined);
    }
  };

  /** Sends the intent's jobs back to the synchronous path. */
  const leave = async (intent: BatchIntent, reason: string) => {
    for (const member of intent.members) {
      await store.writeLine(member, { state: 'left', reason });
      await wake(member);
    }
    await store.finish(intent);
  };

  const poll = async (intent: BatchIntent, api: ProviderBatchApi) => {
    if (intent.batchId === null) {
      // Taken and never recorded as sent: its sender died; send it now (or adopt what it made).
      await send(intent, api, 'taken over');
      return;
    }
    const state = await api.state(intent.batchId);
    if (!state.ended) {
      if (intent.cancel || Date.now() >= intent.deadlineAt - config.deadline_margin_s * 1000) {
        await api.cancel(intent.batchId).catch((error: unknown) => {
          logger.warn({ err: error, batchId: intent.batchId }, 'could not cancel a provider batch');
        });
      }
      await store.later(intent, Math.min(intent.pollDelayMs * 2, config.poll_max_s * 1000));
      return;
    }
    const { provider, modelId } = parseGroup(intent.group);
    const answered = new Set<string>();
    const byJob = new Map(intent.members.map((member) => [member.jobId, member]));
    for await (const outcome of api.results(intent.batchId, `${provider}/${modelId}`)) {
      const member = byJob.get(outcome.customId);
      if (member === undefined || answered.has(outcome.customId)) continue;
      answered.add(outcome.customId);
      await store.writeLine(
        member,
        outcome.kind === 'answer'
          ? { state: 'answered', result: outcome.result, usage: outcome.usage, batchId: intent.batchId }
          : {
              state: 'failed',
              error: {
                kind: outcome.error.kind,
                message: outcome.error.message,
                ...(outcome.error.status === undefined ? {} : { status: outcome.error.status }),
              },
              batchId: intent.batchId,
            },
      );
      await wake(member);
    }
    logger.info(
      { batchId: intent.batchId, status: state.status, answered: answered.size, requests: intent.members.length },
      'provider batch ended',
    );
    options.metrics?.batchEnded({
      provider,
      status: state.status,
      seconds: (Date.now() - (intent.sentAt ?? Date.now())) / 1000,
    });
    await leave(
      { ...intent, members: intent.members.filter((member) => !answered.has(member.jobId)) },
      `its provider batch ended ${state.status}`,
    );
  };

  /** Runs `work` while this worker alone holds the intent; nothing when another worker has it. */
  const underIntentLock = async (id: string, work: () => Promise<void>) => {
    const token = await store.lock(`intent:${id}`, LOCK_MS);
    if (token === null) return;
    try {
      await work();
    } finally {
      await store.unlock(`intent:${id}`, token);
    }
  };

  const pollDue = async () => {
    for (const id of await store.due(DUE_PER_TICK)) {
      await underIntentLock(id, async () => {
        const intent = await store.intent(id);
        if (intent === null) return;
        const api = options.apis.get(parseGroup(intent.group).provider);
        if (api !== undefined) await poll(intent, api);
      }).catch((error: unknown) => logger.warn({ err: error, intent: id }, 'provider batch step failed'));
    }
  };

  const loop = (async () => {
    while (!closed) {
      try {
        await flushGroups();
        await pollDue();
      } catch (error) {
        logger.warn({ err: error }, 'provider batch runner step failed');
      }
      await sleep(tickMs, undefined, { ref: false });
    }
  })();

  return {
    close: async () => {
      closed = true;
      await loop;
    },
  };
}
