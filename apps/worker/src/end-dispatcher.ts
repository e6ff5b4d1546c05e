import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import {
  isEndedJobStatus,
  JOB_EVENTS_CHANNEL,
  jobOutboxKey,
  parseEndNotice,
  type JobEndNotice,
  type JobStore,
  type Logger,
} from '@llmq/core';
import { traceJobEnd } from './tracing/job-run-span.js';

export interface EndDispatcherOptions {
  /** Commands. */
  redis: Redis;
  /** A connection of its own for the job-events channel, which nudges a tenant's drain. */
  subscriber: Redis;
  store: JobStore;
  logger: Logger;
  /** This worker's name in the outbox's consumer group. */
  consumer: string;
  /** What follows a job's end (cache, webhook, metrics). Throwing leaves the entry for a later try. */
  handle: (notice: JobEndNotice) => Promise<void>;
  /** Every tenant's outbox is read at least this often, ms. Default 2 s. */
  sweepMs?: number;
  /** An entry a consumer took and has not acknowledged this long is taken over, ms. Default 30 s. */
  claimIdleMs?: number;
}

const GROUP = 'dispatch';
const BATCH = 100;
type StreamEntry = [id: string, fields: string[]];

/**
 * Drains the outboxes the transition script writes: each job end, announced atomically with it,
 * is handled (answer cached, webhook queued, end counted) by one worker, at least once, and
 * removed once handled. A
 * job-events message nudges its tenant's drain at once; a sweep every `sweepMs` covers a missed
 * message, and takes over what a dead worker took and never acknowledged.
 */
export async function startEndDispatcher(options: EndDispatcherOptions): Promise<{ close(): Promise<void> }> {
  const sweepMs = options.sweepMs ?? 2_000;
  const claimIdleMs = options.claimIdleMs ?? 30_000;
  const grouped = new Set<string>();
  const draining = new Map<string, Promise<void>>();
  let closed = false;

  const ensureGroup = async (key: string) => {
    if (grouped.has(key)) return;
    await options.redis.xgroup('CREATE', key, GROUP, '0', 'MKSTREAM').catch((error: unknown) => {
      if (!String(error).includes('BUSYGROUP')) throw error;
    });
    grouped.add(key);
  };

  const handleAll = async (tenant: string, key: string, entries: StreamEntry[]) => {
    for (const entry of entries) {
      const unreadable: string[] = [];
      const notice = parseEndNotice(tenant, entry[1], (field) => unreadable.push(field));
      if (unreadable.length > 0) {
        options.logger.warn({ tenant, entry: entry[0], fields: unreadable }, 'outbox entry has unreadable details');
      }
      if (notice === null)
        options.logger.warn({ tenant, entry: entry[0] }, 'dropping an outbox entry that is not a job end');
      else await traceJobEnd(notice, () => options.handle(notice));
      await options.redis.multi().xack(key, GROUP, entry[0]).xdel(key, entry[0]).exec();
    }
  };

  const drain = async (tenant: string, reclaim: boolean) => {
    const key = jobOutboxKey(tenant);
    await ensureGroup(key);
    if (reclaim) {
      const [, claimed] = (await options.redis.xautoclaim(
        key,
        GROUP,
        options.consumer,
        claimIdleMs,
        '0-0',
        'COUNT',
        BATCH,
      )) as [string, StreamEntry[]];
      await handleAll(tenant, key, claimed);
    }
    for (;;) {
      const reply = (await options.redis.xreadgroup(
        'GROUP',
        GROUP,
        options.consumer,
        'COUNT',
        BATCH,
        'STREAMS',
        key,
        '>',
      )) as Array<[string, StreamEntry[]]> | null;
      const entries = reply?.[0]?.[1] ?? [];
      if (entries.length === 0) return;
      await handleAll(tenant, key, entries);
    }
  };

  /** One drain per tenant at a time; a nudge during a drain runs another after it. */
  const schedule = (tenant: string, reclaim = false) => {
    const previous = draining.get(tenant) ?? Promise.resolve();
    const next = previous
      .then(() => drain(tenant, reclaim))
      .catch((error: unknown) => options.logger.warn({ err: error, tenant }, 'could not drain the outbox'));
    draining.set(tenant, next);
    void next.finally(() => {
      if (draining.get(tenant) === next) draining.delete(tenant);
    });
    return next;
  };

  options.subscriber.on('message', (channel: string, message: string) => {
    if (channel !== JOB_EVENTS_CHANNEL) return;
    try {
      const event = JSON.parse(message) as { tenant?: unknown; status?: unknown };
      if (typeof event.tenant === 'string' && typeof event.status === 'string' && isEndedJobStatus(event.status)) {
        void schedule(event.tenant);
      }
    } catch {
      // Not an event of ours.
    }
  });
  await options.subscriber.subscribe(JOB_EVENTS_CHANNEL);

  void (async () => {
    while (!closed) {
      const tenants = await options.store.tenants().catch(() => [] as string[]);
      await Promise.all(tenants.map((tenant) => schedule(tenant, true)));
      await sleep(sweepMs, undefined, { ref: false });
    }
  })();

  return {
    close: async () => {
      closed = true;
      await Promise.all(draining.values());
      await options.subscriber.quit().catch(() => undefined);
    },
  };
}
