import { Router, type Request, type Response } from 'express';
import type { Queue } from 'bullmq';
import { z } from 'zod';
import {
  enqueueWebhookRedelivery,
  formatValidationError,
  isEndedJobStatus,
  isJobId,
  toJobObject,
  type JobStore,
  type WebhookDeliveryLog,
  type WebhookJobData,
  type WebhookSecret,
  type WebhookSecrets,
  type WebhookSecretStore,
} from '@llmq/core';
import { tenantOf } from '../auth.js';
import { HttpError } from '../http-error.js';

export interface WebhookRoutesOptions {
  store: JobStore;
  queue: Queue<WebhookJobData>;
  secrets: WebhookSecretStore;
  deliveries: WebhookDeliveryLog;
  /** How long a rotated-out secret keeps signing when the request names no grace, ms. Default: 1 day. */
  secretGraceMs?: number;
}

/** Longest grace a rotation may ask for, seconds. */
const MAX_GRACE_SECONDS = 30 * 86_400;

/** Body of `POST /v1/webhook-secret/rotate` (also the OpenAPI document's). */
export const rotateBodySchema = z
  .strictObject({
    grace_seconds: z
      .number({ error: 'must be a number of seconds' })
      .int('must be a whole number of seconds')
      .min(0, 'must be at least 0')
      .max(MAX_GRACE_SECONDS, `must be at most ${MAX_GRACE_SECONDS}`)
      .optional(),
  })
  .optional();

const seconds = (milliseconds: number) => Math.floor(milliseconds / 1000);

/**
 * The rotate body is optional, but one that is sent must be JSON: the JSON parser skips any other
 * type, and the rotation would go ahead with a grace the caller did not ask for.
 */
function refuseBodyNotJson(request: Request): void {
  // `Content-Length: 0` (what most clients send for a POST without a body) is no body.
  const hasBody = request.get('transfer-encoding') !== undefined || Number(request.get('content-length') ?? 0) > 0;
  if (!hasBody || request.is(['application/json', 'application/*+json'])) return;
  const type = request.get('content-type')?.split(';')[0]?.trim().slice(0, 100) ?? '';
  const sent = type === '' ? 'a body with no Content-Type' : `a body of Content-Type "${type}"`;
  throw new HttpError(
    415,
    'unsupported_media_type',
    `${sent} is not JSON: send {"grace_seconds": N} with "Content-Type: application/json", or no body`,
  );
}

function secretObject(secret: WebhookSecret) {
  return {
    id: secret.id,
    secret: secret.secret,
    created_at: seconds(secret.createdAt),
    ...(secret.expiresAt === null ? {} : { expires_at: seconds(secret.expiresAt) }),
  };
}

/** Secrets answer with no-store, so no proxy or browser cache keeps them. */
function sendSecrets(response: Response, secrets: WebhookSecrets): void {
  response.set('cache-control', 'no-store').json({
    object: 'webhook_secret',
    current: secretObject(secrets.current),
    previous: secrets.previous.map(secretObject),
  });
}

/** The tenant's signing secrets (read, rotate, retire) and redelivery of a job's webhook. */
export function webhookRoutes(options: WebhookRoutesOptions): Router {
  const { store, secrets } = options;
  const defaultGraceMs = options.secretGraceMs ?? 86_400_000;
  const router = Router();

  router.get('/v1/webhook-secret', async (request, response) => {
    sendSecrets(response, await secrets.get(tenantOf(request)));
  });

  router.post('/v1/webhook-secret/rotate', async (request, response) => {
    const tenant = tenantOf(request);
    refuseBodyNotJson(request);
    const parsed = rotateBodySchema.safeParse(request.body ?? undefined);
    if (!parsed.success) throw new HttpError(400, 'invalid_request', formatValidationError(parsed.error));
    const graceMs = parsed.data?.grace_seconds === undefined ? defaultGraceMs : parsed.data.grace_seconds * 1000;
    const rotated = await secrets.rotate(tenant, graceMs);
    request.log.info({ secretId: rotated.current.id, graceMs }, 'webhook secret rotated');
    sendSecrets(response, rotated);
  });

  router.delete('/v1/webhook-secret/:id', async (request, response) => {
    const tenant = tenantOf(request);
    const { id } = request.params;
    const outcome = await secrets.deletePrevious(tenant, id);
    if (outcome === 'missing') throw new HttpError(404, 'not_found', `no webhook secret with id "${id}"`);
    if (outcome === 'current') {
      throw new HttpError(409, 'conflict', 'the current secret cannot be deleted: rotate to a new one first');
    }
    request.log.info({ secretId: id }, 'webhook secret deleted');
    sendSecrets(response, await secrets.get(tenant));
  });

  router.post('/v1/jobs/:id/webhook/redeliver', async (request, response) => {
    const tenant = tenantOf(request);
    const { id } = request.params;
    const notFound = new HttpError(404, 'not_found', `no job with id "${id}"`);
    if (!isJobId(id)) throw notFound;
    const record = await store.get(tenant, id);
    if (record === null) throw notFound;
    if (record.submission.webhook === undefined) throw new HttpError(409, 'conflict', `job "${id}" has no webhook`);
    if (!isEndedJobStatus(record.status)) {
      throw new HttpError(409, 'conflict', `job "${id}" has not ended yet (${record.status})`, {
        status: record.status,
      });
    }
    const queued = await enqueueWebhookRedelivery(options.queue, options.deliveries, {
      tenant,
      id,
      status: record.status,
    });
    if (!queued) throw notFound;
    request.log.info({ jobId: id }, 'webhook redelivery queued');
    const updated = (await store.get(tenant, id)) ?? record;
    response.status(202).json(toJobObject(updated));
  });

  return router;
}
