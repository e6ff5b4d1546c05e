import type { ServerResponse } from 'node:http';
import type { Router } from 'express';
import onHeaders from 'on-headers';
import type { Queue } from 'bullmq';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import type { BaseAdapter } from '@bull-board/api/baseAdapter';
import type { ControllerHandlerReturnType, HTTPStatus } from '@bull-board/api/typings/app';
import { ExpressAdapter } from '@bull-board/express';
import { isRedisUnavailable, type JobStore, type LlmJobData, type WebhookJobData } from '@llmq/core';
import { withLlmqErrorBody } from './admin-board-errors.js';
import { LlmJobsBoardAdapter, shownFields, type FieldDisplay } from './admin-llm-jobs-adapter.js';

/** Where the dashboard lives. */
export const ADMIN_BOARD_PATH = '/admin/queues';

const WEBHOOK_JOB_FIELDS_SHOWN: Record<keyof WebhookJobData, FieldDisplay> = {
  tenant: 'as-is',
  jobId: 'as-is',
  status: 'as-is',
  sequence: 'as-is',
  traceparent: 'as-is',
};

/** The colour of BullMQ's Completed state (slate, as the board's muted text). */
export const NEUTRAL = { light: '#64748b', dark: '#94a3b8' } as const;

// Every time the board itself prints (added, processed, finished): UTC, with the zone named.
const UTC_TIME: Intl.DateTimeFormatOptions = {
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
  timeZone: 'UTC',
  timeZoneName: 'short',
};

/** What the board answers while Redis is unreachable or refusing writes (503, as the API does). */
const BOARD_UNAVAILABLE: ControllerHandlerReturnType = {
  // bull-board's HTTPStatus type lists only the codes it answers itself; its adapter sends any.
  status: 503 as HTTPStatus,
  body: { error: { type: 'unavailable', message: 'the job store is unreachable or refusing writes; retry shortly' } },
};

/**
 * bull-board's Express adapter, answering its API's errors in llmq's one error shape: a Redis
 * that cannot answer is a 503 with Retry-After, never bull-board's 500.
 */
class LlmqBoardAdapter extends ExpressAdapter {
  constructor() {
    super();
    this.app.disable('x-powered-by');
    // bull-board writes its answers itself (status and body only): the header joins any 503.
    this.app.use((_request, response, next) => {
      onHeaders(response, function addRetryAfter(this: ServerResponse) {
        if (this.statusCode === 503) this.setHeader('retry-after', '1');
      });
      next();
    });
  }

  override setErrorHandler(handler: Parameters<ExpressAdapter['setErrorHandler']>[0]): this {
    return super.setErrorHandler((error) =>
      isRedisUnavailable(error) ? BOARD_UNAVAILABLE : withLlmqErrorBody(handler(error)),
    );
  }

  override setApiRoutes(routes: Parameters<ExpressAdapter['setApiRoutes']>[0]): ExpressAdapter {
    return super.setApiRoutes(
      routes.map((route) => ({
        ...route,
        handler: async (request) => withLlmqErrorBody(await route.handler(request)),
      })),
    );
  }
}

export interface AdminBoardOptions {
  llmQueue: Queue<LlmJobData>;
  webhookQueue?: Queue<WebhookJobData>;
  /** Where each job's record is read: the board shows what the API shows. */
  store: JobStore;
  /**
   * Kept for `LLMQ_ADMIN_READ_ONLY`; the board is read-only whatever it says, since every BullMQ
   * action (retry, remove, clean, promote, add) would go around the job record.
   */
  readOnly?: boolean;
}

/** bull-board over every queue llmq uses, mounted at ADMIN_BOARD_PATH by the caller. */
export function createAdminBoard(options: AdminBoardOptions): Router {
  const queues: BaseAdapter[] = [
    new LlmJobsBoardAdapter(options.llmQueue, options.store, { description: 'chat and embedding jobs' }),
  ];
  if (options.webhookQueue) {
    const webhooks = new BullMQAdapter(options.webhookQueue, {
      readOnlyMode: true,
      allowRetries: false,
      description: 'webhook deliveries',
    });
    webhooks.setFormatter('data', (data: unknown) => shownFields(WEBHOOK_JOB_FIELDS_SHOWN, data));
    queues.push(webhooks);
  }
  const adapter = new LlmqBoardAdapter();
  adapter.setBasePath(ADMIN_BOARD_PATH);
  createBullBoard({
    queues,
    serverAdapter: adapter,
    options: {
      uiConfig: {
        boardTitle: 'llmq',
        // The batches pages are llmq's own; the session ends at the logout link; the board's own
        // docs link would call an outside site.
        miscLinks: [
          { text: 'Batches', url: '/admin/batches' },
          { text: 'Log out', url: '/admin/logout' },
        ],
        hideDocsLink: true,
        dateFormats: { short: UTC_TIME, common: UTC_TIME, full: UTC_TIME },
        // BullMQ's Completed set holds every job whose run is over, canceled and failed ones too:
        // its colour is a neutral one, not a success green; each job's title says how it ended.
        theme: { light: { 'status-completed': NEUTRAL.light }, dark: { 'status-completed': NEUTRAL.dark } },
      },
    },
  });
  return adapter.getRouter() as Router;
}
