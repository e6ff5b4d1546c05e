import { UnrecoverableError, type Job } from 'bullmq';
import {
  buildJobEndedEvent,
  DEFAULT_WEBHOOK_RETRY_DELAYS_MS,
  sendWebhook,
  webhookMaxAttempts,
  webhookMessageId,
  webhookSignatureHeaders,
  type JobStore,
  type Logger,
  type WebhookAllowlist,
  type WebhookDeliveryLog,
  type WebhookJobData,
  type WebhookLookup,
  type WebhookSecretStore,
  type WebhookStatus,
} from '@llmq/core';
import { traceWebhookDelivery } from '../tracing/webhook-delivery-span.js';

export interface WebhookDeliveryProcessorOptions {
  store: JobStore;
  secrets: WebhookSecretStore;
  deliveries: WebhookDeliveryLog;
  logger: Logger;
  /** The operator's exceptions to the address rules. */
  allowlist: WebhookAllowlist;
  /** Host resolution. Default: the system resolver. */
  lookup?: WebhookLookup;
  /** Time limit of one attempt, ms. Default: 10,000. */
  timeoutMs?: number;
  /** Bytes of an answer read before the connection is dropped. Default: 4096. */
  maxResponseBytes?: number;
  /** The retry schedule, to know which attempt is the last. Default: DEFAULT_WEBHOOK_RETRY_DELAYS_MS. */
  retryDelaysMs?: readonly number[];
  /** Clock, ms. Default: Date.now. */
  now?: () => number;
}

/** What BullMQ keeps as a delivery's return value. */
export interface WebhookDeliveryReturn {
  outcome: 'delivered' | 'gone' | 'skipped';
}

/**
 * The processor of the webhook queue: one signed attempt per run, recorded on the job. A failed
 * attempt throws so BullMQ retries it on the webhook schedule; a refusal or a 410 ends it.
 */
export function createWebhookDeliveryProcessor(options: WebhookDeliveryProcessorOptions) {
  const now = options.now ?? Date.now;
  const scheduleAttempts = webhookMaxAttempts({ delaysMs: options.retryDelaysMs ?? DEFAULT_WEBHOOK_RETRY_DELAYS_MS });

  return async function processWebhookDelivery(job: Job<WebhookJobData>): Promise<WebhookDeliveryReturn> {
    const { tenant, jobId, status, sequence } = job.data;
    const attempt = job.attemptsMade + 1;
    const log = options.logger.child({ jobId, tenant, webhookAttempt: attempt, sequence });
    const record = await options.store.get(tenant, jobId);
    if (record === null || record.submission.webhook === undefined) {
      log.info('webhook skipped: the job is gone or has no webhook');
      return { outcome: 'skipped' };
    }
    const url = record.submission.webhook.url;
    const body = JSON.stringify(buildJobEndedEvent(record, status));
    const headers = webhookSignatureHeaders({
      id: webhookMessageId(jobId, status),
      timestamp: Math.floor(now() / 1000),
      body,
      secrets: await options.secrets.signingSecrets(tenant),
    });
    const attemptedAt = now();
    const delivery = { url, jobId, attempt, traceparent: job.data.traceparent };
    const result = await traceWebhookDelivery(delivery, () =>
      sendWebhook({
        url,
        body,
        headers: { ...headers },
        allowlist: options.allowlist,
        ...(options.lookup ? { lookup: options.lookup } : {}),
        ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
        ...(options.maxResponseBytes !== undefined ? { maxResponseBytes: options.maxResponseBytes } : {}),
      }),
    );

    const lastAttempt = attempt >= Math.min(job.opts.attempts ?? 1, scheduleAttempts);
    const webhookStatus: WebhookStatus =
      result.outcome === 'delivered' || result.outcome === 'gone'
        ? result.outcome
        : result.outcome === 'refused' || lastAttempt
          ? 'failed'
          : 'pending';
    await options.deliveries.record(tenant, jobId, webhookStatus, {
      attempt,
      attempted_at: Math.round(attemptedAt) / 1000,
      outcome: result.outcome,
      status_code: result.statusCode,
      duration_ms: result.durationMs,
      error: result.error,
    });
    // The origin only: paths and queries of webhook URLs often carry the receiver's tokens.
    const target = new URL(url).origin;
    const fields = { target, outcome: result.outcome, statusCode: result.statusCode, ms: result.durationMs };
    if (result.outcome === 'delivered' || result.outcome === 'gone') {
      log.info(fields, `webhook ${result.outcome}`);
      return { outcome: result.outcome };
    }
    log.warn({ ...fields, err: result.error, final: webhookStatus === 'failed' }, 'webhook attempt failed');
    const message = result.error ?? 'the attempt failed';
    if (webhookStatus === 'failed') throw new UnrecoverableError(message);
    throw new Error(message);
  };
}
