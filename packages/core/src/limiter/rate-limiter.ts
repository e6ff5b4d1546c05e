import type { Redis } from 'ioredis';
import { readLuaScript } from '../store/lua-scripts.js';
import { KEY_NAMESPACE } from '../store/job-keys.js';
import { RESERVATION_TOLERANCE_MS, UNLIMITED, type BucketParameters, type ModelLimits } from './limit-rules.js';

interface LimiterCommands {
  llmqLimiterAcquire(model: string, tenant: string, ...args: string[]): Promise<[number, number, number | string]>;
  llmqLimiterAdjust(...keysAndArgs: string[]): Promise<number>;
  llmqLimiterFair(...keysAndArgs: string[]): Promise<[number, number, number | string, ...string[]]>;
}

/** Keys of a model's buckets; the hash tag keeps the model's and its tenants' in one slot. */
export function bucketKeys(model: string, tenant: string): { model: string; tenant: string } {
  const tag = `${KEY_NAMESPACE}:{rl:${model}}`;
  return { model: `${tag}:bucket`, tenant: `${tag}:tenant:${tenant}` };
}

/** The keys of a model's fair queue (see limiter-fair.lua). */
export function fairKeys(model: string) {
  const tag = `${KEY_NAMESPACE}:{rl:${model}}`;
  const part = (name: string) => `${tag}:fair:${name}`;
  return {
    state: `${tag}:fair`,
    tenants: part('tenants'),
    calls: part('calls'),
    wants: part('wants'),
    holds: part('holds'),
    leases: part('leases'),
  };
}

/** The fair keys in the script's KEYS order (3 to 8). */
function fairKeyList(model: string): string[] {
  const keys = fairKeys(model);
  return [keys.state, keys.tenants, keys.calls, keys.wants, keys.holds, keys.leases];
}

// A granted call whose job has not come back this long after its reservation lets its slot lapse.
const GRANT_LEASE_MS = 60_000;
// Longer than the longest deadline (7 days): a queued call's place outlives its job.
const FAIR_KEY_EXPIRY_MS = 8 * 24 * 3_600_000;

/** A bucket's room now (see `RateLimiter.headroom`). */
export interface BucketRoom {
  /** The tighter dimension's free share of its capacity, 0-1; 0 when not open. */
  share: number;
  /** Requests and tokens it could hand out now; Infinity for an unlimited dimension. */
  requests: number;
  tokens: number;
  /** False while a provider 429 blocks it or calls wait in its fair queue. */
  open: boolean;
}

/** What the fair limiter said about one call. */
export interface FairAdmission {
  /**
   * admitted: go now; scheduled: come back at `reservation` (its slot is taken); queued: wait
   * in the fair queue until woken; refused: no room now (a call without a job to park).
   */
  status: 'admitted' | 'scheduled' | 'queued' | 'refused';
  /** scheduled: ms until the reservation; queued: the soonest its turn can come. */
  waitMs: number;
  reservation: number | undefined;
  /** Other calls granted by this run: their jobs are to be woken. */
  granted: string[];
  /**
   * Admitted holding a slot (a cap counts it, or it came through the queue): its end is a
   * `fairRelease` (or `settleFairly`). An admitted call without one settles with `adjust`.
   */
  held: boolean;
}

const FAIR_STATUS = ['scheduled', 'admitted', 'queued', 'refused', 'tick'] as const;

// A bucket idle this long has refilled (capacity / rate <= 60 s); dropping it loses nothing.
const BUCKET_EXPIRY_MS = 120_000;

const parameters = (bucket: BucketParameters) => [
  String(bucket.requestCapacity),
  String(bucket.requestRate),
  String(bucket.tokenCapacity),
  String(bucket.tokenRate),
];

export interface Admission {
  /** The call may go now. */
  admitted: boolean;
  /** When not admitted: ms from now until the call's scheduled time. */
  waitMs: number;
  /**
   * When not admitted: the scheduled time (ms, Redis's clock). The want is already taken: the
   * job parks until then and passes this back to `acquire`, which lets it go without taking again.
   */
  reservation: number | undefined;
}

export interface Adjustment {
  /** Tokens the call really used minus those reserved (negative: refund). */
  tokenCorrection?: number;
  /** Requests to give back (negative) or charge; -1 returns a reservation that was never used. */
  requestCorrection?: number;
  /** A provider 429's wait: no worker is admitted to this model before it passes. */
  blockForMs?: number;
  /** What the provider's rate-limit headers say remains in its window. */
  remainingRequests?: number | undefined;
  remainingTokens?: number | undefined;
}

type AdjustOptions = { model: string; tenant: string; limits: ModelLimits } & Adjustment;

interface FairOptions {
  model: string;
  tenant: string;
  limits: ModelLimits;
  callId?: string;
  requests?: number;
  tokens?: number;
  rank?: number;
  leaseMs?: number;
  refund?: boolean;
  dispatch?: boolean;
}

/** limiter-adjust.lua's keys and arguments. */
function adjustArguments(options: AdjustOptions): string[] {
  const keys = bucketKeys(options.model, options.tenant);
  return [
    keys.model,
    keys.tenant,
    String(Math.round(options.tokenCorrection ?? 0)),
    String(options.requestCorrection ?? 0),
    String(Math.ceil(options.blockForMs ?? 0)),
    String(options.remainingRequests ?? -1),
    String(options.remainingTokens ?? -1),
    ...parameters(options.limits.model),
    ...parameters(options.limits.tenant),
    String(BUCKET_EXPIRY_MS),
  ];
}

/** limiter-fair.lua's keys and arguments. */
function fairArguments(op: 'acquire' | 'release' | 'tick', options: FairOptions): string[] {
  const keys = bucketKeys(options.model, options.tenant);
  const fair = options.limits.fair ?? { weight: 1, cap: 0, horizonMs: 0 };
  return [
    keys.model,
    keys.tenant,
    ...fairKeyList(options.model),
    op,
    options.callId ?? '',
    options.tenant,
    String(options.requests ?? 0),
    String(Math.ceil(options.tokens ?? 0)),
    String(options.rank ?? 0),
    String(fair.weight),
    String(fair.cap),
    ...parameters(options.limits.model),
    ...parameters(options.limits.tenant),
    String(BUCKET_EXPIRY_MS),
    String(RESERVATION_TOLERANCE_MS),
    String(fair.horizonMs),
    String(options.leaseMs ?? 0),
    String(GRANT_LEASE_MS),
    String(FAIR_KEY_EXPIRY_MS),
    options.refund ? '1' : '0',
    options.dispatch === false ? '0' : '1',
  ];
}

/**
 * The distributed token-bucket limiter: requests/min and tokens/min per provider/model (and per
 * tenant within a model), shared by every worker through Redis, one round trip per admission.
 */
export class RateLimiter {
  readonly #redis: Redis & LimiterCommands;

  constructor(redis: Redis) {
    const commands = redis as Redis & LimiterCommands;
    if (typeof commands.llmqLimiterAcquire !== 'function') {
      redis.defineCommand('llmqLimiterAcquire', {
        numberOfKeys: 2,
        lua: readLuaScript(new URL('./lua/limiter-acquire.lua', import.meta.url)),
      });
      redis.defineCommand('llmqLimiterFair', {
        numberOfKeys: 8,
        lua: readLuaScript(new URL('./lua/limiter-fair.lua', import.meta.url)),
      });
      redis.defineCommand('llmqLimiterAdjust', {
        numberOfKeys: 2,
        lua: readLuaScript(new URL('./lua/limiter-adjust.lua', import.meta.url)),
      });
    }
    this.#redis = commands;
  }

  async acquire(options: {
    model: string;
    tenant: string;
    limits: ModelLimits;
    requests: number;
    tokens: number;
    /** The reservation a previous `acquire` gave this call. */
    reservation?: number | undefined;
  }): Promise<Admission> {
    const keys = bucketKeys(options.model, options.tenant);
    const [admitted, waitMs, reservation] = await this.#redis.llmqLimiterAcquire(
      keys.model,
      keys.tenant,
      String(options.requests),
      String(Math.ceil(options.tokens)),
      ...parameters(options.limits.model),
      ...parameters(options.limits.tenant),
      String(BUCKET_EXPIRY_MS),
      String(options.reservation ?? 0),
      String(RESERVATION_TOLERANCE_MS),
    );
    return admitted === 1
      ? { admitted: true, waitMs: 0, reservation: undefined }
      : { admitted: false, waitMs: Number(waitMs), reservation: Number(reservation) };
  }

  /**
   * What each model bucket could hand out now, read in one round trip without taking anything:
   * for choosing among buckets (a provider's accounts), not for admission. Levels are refilled
   * on this machine's clock; a blocked bucket, or one whose fair queue has calls waiting, has
   * no room whatever its level.
   */
  async headroom(buckets: ReadonlyArray<{ model: string; limits: ModelLimits | undefined }>): Promise<BucketRoom[]> {
    // A pipeline per bucket, all sent at once: each bucket's keys share a slot, different buckets
    // need not (Redis Cluster).
    const replies = await Promise.all(
      buckets.map(async ({ model, limits }) => {
        if (limits === undefined) return undefined;
        const pipeline = this.#redis.pipeline().hmget(bucketKeys(model, '').model, 'r', 't', 'ts', 'blocked');
        if (limits.fair) pipeline.zcard(fairKeys(model).tenants);
        const results = (await pipeline.exec()) ?? [];
        for (const [error] of results) if (error) throw error;
        return results.map(([, reply]) => reply);
      }),
    );
    const now = Date.now();
    return buckets.map(({ limits }, index) => {
      const reply = replies[index];
      if (limits === undefined || reply === undefined) {
        return { share: 1, requests: Infinity, tokens: Infinity, open: true };
      }
      const [r, t, ts, blocked] = (reply[0] as Array<string | null>).map((field) =>
        field === null ? undefined : Number(field),
      );
      const waiting = limits.fair ? Number(reply[1]) > 0 : false;
      const elapsed = Math.max(0, now - (ts ?? now));
      const level = (stored: number | undefined, capacity: number, rate: number) =>
        capacity === 0 ? Infinity : Math.min(capacity, (stored ?? capacity) + elapsed * rate);
      const { requestCapacity, requestRate, tokenCapacity, tokenRate } = limits.model;
      const requests = level(r, requestCapacity, requestRate);
      const tokens = level(t, tokenCapacity, tokenRate);
      const open = !waiting && (blocked ?? 0) <= now;
      const shares = [
        requestCapacity === 0 ? 1 : requests / requestCapacity,
        tokenCapacity === 0 ? 1 : tokens / tokenCapacity,
      ];
      return { share: open ? Math.max(0, Math.min(...shares)) : 0, requests, tokens, open };
    });
  }

  async adjust(options: AdjustOptions): Promise<void> {
    await this.#redis.llmqLimiterAdjust(...adjustArguments(options));
  }

  /**
   * `adjust` and the end of the call's fair-share hold (`fairRelease` without refund) in one
   * round trip. Returns the calls granted in its place.
   */
  async settleFairly(options: AdjustOptions & { callId: string }): Promise<string[]> {
    const pipeline = this.#redis.pipeline() as ReturnType<Redis['pipeline']> & {
      llmqLimiterAdjust(...args: string[]): unknown;
      llmqLimiterFair(...args: string[]): unknown;
    };
    pipeline.llmqLimiterAdjust(...adjustArguments(options));
    pipeline.llmqLimiterFair(...fairArguments('release', { ...options, refund: false }));
    const results = (await pipeline.exec()) ?? [];
    for (const [error] of results) if (error) throw error;
    const [, , , ...granted] = (results[1]?.[1] ?? []) as string[];
    return granted;
  }

  async #fair(
    op: 'acquire' | 'release' | 'tick',
    options: FairOptions,
  ): Promise<[number, number, number | string, ...string[]]> {
    return this.#redis.llmqLimiterFair(...fairArguments(op, options));
  }

  /**
   * Admission with fair share between tenants: a call goes now, is scheduled within the
   * horizon, or queues for its fair turn. `callId` names the call's hold (its job's id); ''
   * for a call with no job to park, which is admitted now or refused.
   */
  async fairAcquire(options: {
    model: string;
    tenant: string;
    limits: ModelLimits;
    requests: number;
    tokens: number;
    callId: string;
    /** Order among the tenant's own queued calls, 0-99, lower first. */
    rank: number;
    /** How long an admitted call may hold its slot before it lapses (its worker died), ms. */
    leaseMs: number;
  }): Promise<FairAdmission> {
    const [status, waitMs, reservation, ...granted] = await this.#fair('acquire', options);
    return {
      status: FAIR_STATUS[status] as FairAdmission['status'],
      waitMs: Number(waitMs),
      reservation: status === 0 ? Number(reservation) : undefined,
      granted,
      held: status === 1 && Number(reservation) === 1,
    };
  }

  /**
   * Ends a call's hold on the model, or takes it out of the fair queue: `refund` gives its want
   * back (it never ran). Returns the calls granted in its place (none with `dispatch: false`).
   */
  async fairRelease(options: {
    model: string;
    tenant: string;
    limits: ModelLimits;
    callId: string;
    refund: boolean;
    dispatch?: boolean;
  }): Promise<string[]> {
    const [, , , ...granted] = await this.#fair('release', options);
    return granted;
  }

  /** Whether the call holds a slot (granted or running) on the model. */
  async fairHolds(model: string, callId: string): Promise<boolean> {
    return (await this.#redis.hexists(fairKeys(model).holds, callId)) === 1;
  }

  /** Grants queued calls the slots the horizon has come to; `queued` is the tenants still waiting. */
  async fairTick(options: { model: string; limits: ModelLimits }): Promise<{ queued: number; granted: string[] }> {
    const [, queued, , ...granted] = await this.#fair('tick', {
      ...options,
      limits: { ...options.limits, tenant: UNLIMITED },
      tenant: '',
    });
    return { queued: Number(queued), granted };
  }
}
