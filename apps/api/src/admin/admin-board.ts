import type { Router } from 'express';
import type { Queue } from 'bullmq';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { LlmJobData, WebhookJobData } from '@llmq/core';
import { withLlmqErrorBody } from './admin-board-errors.js';

/** Where the dashboard lives. */
export const ADMIN_BOARD_PATH = '/admin/queues';

// What the dashboard shows of a job's data: chosen field by field, so a field added to the job
// data later stays hidden until someone decides it carries no secret (the compiler asks).
const LLM_JOB_FIELDS_SHOWN: Record<keyof LlmJobData, boolean> = {
  tenant: true,
  jobId: true,
  type: true,
  model: true,
  tokens: true,
  inputs: true,
  fallbacks: true,
  cacheMode: true,
  modelIndex: true,
  attemptsPerModel: true,
  attemptTimeoutMs: true,
  deadlineAt: true,
  reservation: true,
  reservationAttempt: true,
  reservationModel: true,
  reservationRequests: true,
};
const WEBHOOK_JOB_FIELDS_SHOWN: Record<keyof WebhookJobData, boolean> = {
  tenant: true,
  jobId: true,
  status: true,
  sequence: true,
};

function pickShown(shown: Record<string, boolean>) {
  return (data: unknown): Record<string, unknown> => {
    if (typeof data !== 'object' || data === null) return {};
    return Object.fromEntries(Object.entries(data).filter(([field]) => shown[field] === true));
  };
}

/** bull-board's Express adapter, answering its API's errors in llmq's one error shape. */
class LlmqBoardAdapter extends ExpressAdapter {
  constructor() {
    super();
    this.app.disable('x-powered-by');
  }

  override setErrorHandler(handler: Parameters<ExpressAdapter['setErrorHandler']>[0]): this {
    return super.setErrorHandler((error) => withLlmqErrorBody(handler(error)));
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
  /** No retries, removals, pauses or cleaning from the dashboard. Default: false. */
  readOnly?: boolean;
}

/** bull-board over every queue llmq uses, mounted at ADMIN_BOARD_PATH by the caller. */
export function createAdminBoard(options: AdminBoardOptions): Router {
  const readOnlyMode = options.readOnly ?? false;
  const llm = new BullMQAdapter(options.llmQueue, { readOnlyMode, description: 'chat and embedding jobs' });
  llm.setFormatter('data', pickShown(LLM_JOB_FIELDS_SHOWN));
  const queues = [llm];
  if (options.webhookQueue) {
    const webhooks = new BullMQAdapter(options.webhookQueue, { readOnlyMode, description: 'webhook deliveries' });
    webhooks.setFormatter('data', pickShown(WEBHOOK_JOB_FIELDS_SHOWN));
    queues.push(webhooks);
  }
  const adapter = new LlmqBoardAdapter();
  adapter.setBasePath(ADMIN_BOARD_PATH);
  createBullBoard({
    queues,
    serverAdapter: adapter,
    options: { uiConfig: { boardTitle: readOnlyMode ? 'llmq (read-only)' : 'llmq' } },
  });
  return adapter.getRouter() as Router;
}
