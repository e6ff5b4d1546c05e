import type { Queue } from 'bullmq';
import type { RequestHandler } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { sameToken } from '../admin/admin-session.js';
import { HttpError } from '../http-error.js';
import { httpMetrics } from './http-metrics.js';
import { queueAgeGauge } from './queue-age-gauge.js';

/** BullMQ states reported as queue depth; `wait` is waiting for a worker, `delayed` waiting for its time. */
const QUEUE_STATES = ['wait', 'active', 'delayed', 'prioritized', 'waiting-children', 'completed', 'failed'] as const;

export interface ApiMetricsOptions {
  /** Queues whose depth is read from Redis at every scrape. */
  queues: Queue[];
  /** Node's process metrics (CPU, memory, event loop, GC). Default: true. */
  processMetrics?: boolean;
  /** The clock queue ages are measured with, ms. Default: Date.now. */
  now?: () => number;
}

/**
 * The API process's Prometheus registry. Counters cost an in-memory increment per request;
 * queue depths are read from Redis only when Prometheus scrapes, so they are the same whichever
 * API replica answers.
 */
export class ApiMetrics {
  readonly registry = new Registry();
  readonly jobsSubmitted: Counter<'type'>;
  readonly idempotentReplays: Counter;
  readonly jobsCanceled: Counter;
  readonly rateLimited: Counter<'tenant'>;
  #httpRequests: RequestHandler[] | undefined;

  constructor(options: ApiMetricsOptions) {
    const registers = [this.registry];
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    this.jobsSubmitted = new Counter({
      name: 'llmq_jobs_submitted_total',
      help: 'Jobs accepted by this API process (202), by type; idempotent replays not included',
      labelNames: ['type'],
      registers,
    });
    this.idempotentReplays = new Counter({
      name: 'llmq_idempotent_replays_total',
      help: 'Submissions answered with the job of an earlier request with the same Idempotency-Key',
      registers,
    });
    this.jobsCanceled = new Counter({
      name: 'llmq_jobs_canceled_total',
      help: 'Jobs canceled through this API process',
      registers,
    });
    this.rateLimited = new Counter({
      name: 'llmq_api_rate_limited_total',
      help: 'Requests refused with 429 by the per-tenant API rate limit',
      labelNames: ['tenant'],
      registers,
    });
    // The registry collects every metric at once: both gauges share one read per scrape.
    const queues = options.queues;
    let reading: Promise<Array<Record<string, number>> | undefined> | undefined;
    const readDepths = () =>
      (reading ??= Promise.all(queues.map((queue) => queue.getJobCounts(...QUEUE_STATES)))
        .catch(() => undefined)
        .finally(() => (reading = undefined)));
    new Gauge({
      name: 'llmq_queue_jobs',
      help: 'Jobs in each BullMQ queue by state, read from Redis at scrape time',
      labelNames: ['queue', 'state'],
      registers,
      async collect() {
        const counts = await readDepths();
        // Redis away: the depths are left out, not made up; the process metrics still answer.
        this.reset();
        if (counts === undefined) return;
        for (const [index, queue] of queues.entries()) {
          for (const state of QUEUE_STATES) this.set({ queue: queue.name, state }, counts[index]?.[state] ?? 0);
        }
      },
    });
    queueAgeGauge({ queues, registry: this.registry, now: options.now });
    new Gauge({
      name: 'llmq_queue_scrape_ok',
      help: 'Whether the queue depths could be read from Redis at this scrape (1) or not (0)',
      registers,
      async collect() {
        this.set((await readDepths()) === undefined ? 0 : 1);
      },
    });
  }

  /** Rate, errors and duration of every request by route template, method and status (see http-metrics.ts). */
  httpRequests(): RequestHandler[] {
    return (this.#httpRequests ??= httpMetrics(this.registry));
  }

  /** Counts what `/v1/jobs` routes did, from their answers: nothing is added to the routes themselves. */
  countJobRequests(): RequestHandler {
    return (request, response, next) => {
      if (request.method !== 'POST' && request.method !== 'DELETE') return next();
      response.once('finish', () => {
        const status = response.statusCode;
        if (request.method === 'DELETE' && status === 200 && /^\/v1\/jobs\/[^/]+$/.test(request.path)) {
          this.jobsCanceled.inc();
        } else if (request.method === 'POST' && status === 202 && request.path === '/v1/jobs') {
          if (response.getHeader('idempotent-replayed') === 'true') this.idempotentReplays.inc();
          else this.jobsSubmitted.inc({ type: typeOf(request.body) });
        } else if (request.method === 'POST' && status === 202 && request.path === '/v1/jobs/batch') {
          const jobs = (request.body as { jobs?: unknown[] } | undefined)?.jobs ?? [];
          for (const job of jobs) this.jobsSubmitted.inc({ type: typeOf(job) });
        }
      });
      next();
    };
  }

  /** `GET /metrics`, behind a Bearer token when one is configured. */
  route(options: { token?: string | undefined } = {}): RequestHandler {
    const { token } = options;
    return async (request, response) => {
      if (token !== undefined && !sameToken(request.headers.authorization ?? '', `Bearer ${token}`)) {
        response.set('www-authenticate', 'Bearer realm="llmq-metrics"');
        throw new HttpError(401, 'authentication', 'send "Authorization: Bearer <LLMQ_METRICS_TOKEN>"');
      }
      response.set('content-type', this.registry.contentType).send(await this.registry.metrics());
    };
  }
}

const typeOf = (job: unknown) => {
  const type = (job as { type?: unknown } | undefined)?.type;
  return type === 'chat' || type === 'embedding' ? type : 'unknown';
};
