import { rotateBodySchema } from '../routes/webhook-routes.js';
import { getQuerySchema, listQuerySchema } from '../routes/jobs-routes.js';
import { usageQuerySchema } from '../routes/usage-routes.js';
import {
  jobBatchAcceptedSchema,
  jobListSchema,
  jobObjectSchema,
  usageReportSchema,
  webhookSecretSchema,
} from './openapi-schemas.js';
import { errorAnswer, type ApiRoute, type RouteAnswer } from './api-route.js';
import { OPERATION_ROUTES } from './operation-route-table.js';

const job = (description: string): RouteAnswer => ({ description, json: jobObjectSchema });
const error = errorAnswer;
const jobNotFound = error("no such job (another tenant's job answers the same)");

/**
 * Every route the API serves. openapi.test.ts walks the Express app and fails when a route is
 * missing here, so a new route comes with its documentation.
 */
export const API_ROUTES: ApiRoute[] = [
  {
    method: 'post',
    path: '/v1/jobs',
    summary: 'Submit a job',
    description:
      'Validates the job and queues it. With `Idempotency-Key`, the same key and body within 24 h answer with the same job; the same key with another body is a 422.',
    tag: 'jobs',
    auth: 'apiKey',
    body: { schema: 'JobSubmission', required: true },
    headers: [
      {
        name: 'Idempotency-Key',
        description: '1 to 255 visible ASCII characters; per tenant; a retry with it never creates a second job',
      },
    ],
    answers: {
      202: {
        description: 'queued (or, for a repeated Idempotency-Key, the job it created)',
        json: jobObjectSchema,
        headers: {
          Location: '/v1/jobs/{id}',
          'Idempotent-Replayed': '"true" when the job came from an earlier request',
        },
      },
      400: error('the body is invalid; the message names the field'),
      409: error('a request with the same Idempotency-Key is still being processed'),
      413: error('the body is larger than LLMQ_MAX_BODY_BYTES'),
      415: error('the body is not JSON'),
      422: error('the Idempotency-Key was used with a different body (type idempotency_conflict)'),
    },
  },
  {
    method: 'post',
    path: '/v1/jobs/batch',
    summary: 'Submit up to 1,000 jobs at once: all or none',
    tag: 'jobs',
    auth: 'apiKey',
    body: { schema: 'JobBatchSubmission', required: true },
    answers: {
      202: { description: 'every job queued', json: jobBatchAcceptedSchema },
      400: error('a job is invalid; the message names it'),
      413: error('the body is larger than LLMQ_MAX_BODY_BYTES'),
      415: error('the body is not JSON'),
    },
  },
  {
    method: 'get',
    path: '/v1/jobs',
    summary: "The caller's jobs, newest first",
    tag: 'jobs',
    auth: 'apiKey',
    query: listQuerySchema,
    answers: { 200: { description: 'a page of jobs', json: jobListSchema }, 400: error('a bad query parameter') },
  },
  {
    method: 'get',
    path: '/v1/jobs/:id',
    summary: 'A job',
    description: '`?wait=N` holds the request until the job ends or N seconds pass.',
    tag: 'jobs',
    auth: 'apiKey',
    query: getQuerySchema,
    answers: { 200: job('the job'), 400: error('a bad query parameter'), 404: jobNotFound },
  },
  {
    method: 'delete',
    path: '/v1/jobs/:id',
    summary: 'Cancel a queued or running job',
    tag: 'jobs',
    auth: 'apiKey',
    answers: { 200: job('canceled'), 404: jobNotFound, 409: error('the job has already ended') },
  },
  {
    method: 'get',
    path: '/v1/jobs/:id/events',
    summary: "A job's status changes and streamed output, as Server-Sent Events",
    description:
      '`status` events carry the job object (the last one, when the job ends, with its result); `delta` events carry `{attempt, offset, text}` while a chat job streams. The stream closes when the job ends.',
    tag: 'jobs',
    auth: 'apiKey',
    answers: { 200: { description: 'the event stream', media: 'text/event-stream' }, 404: jobNotFound },
  },
  {
    method: 'post',
    path: '/v1/jobs/:id/webhook/redeliver',
    summary: "Send an ended job's webhook event again",
    tag: 'webhooks',
    auth: 'apiKey',
    answers: {
      202: job('the delivery is queued'),
      404: jobNotFound,
      409: error('the job has not ended, or has no webhook'),
    },
  },
  {
    method: 'get',
    path: '/v1/webhook-secret',
    summary: "The tenant's webhook signing secrets",
    tag: 'webhooks',
    auth: 'apiKey',
    answers: { 200: { description: 'the current secret and those still signing', json: webhookSecretSchema } },
  },
  {
    method: 'post',
    path: '/v1/webhook-secret/rotate',
    summary: 'A new current secret; the old one signs for a grace period',
    tag: 'webhooks',
    auth: 'apiKey',
    body: { schema: rotateBodySchema, required: false },
    answers: {
      200: { description: 'the secrets after the rotation', json: webhookSecretSchema },
      400: error('bad grace'),
    },
  },
  {
    method: 'delete',
    path: '/v1/webhook-secret/:id',
    summary: 'Stop a rotated-out secret signing now',
    tag: 'webhooks',
    auth: 'apiKey',
    answers: {
      200: { description: 'the secrets left', json: webhookSecretSchema },
      404: error('no such secret'),
      409: error('the current secret cannot be deleted; rotate instead'),
    },
  },
  {
    method: 'get',
    path: '/v1/usage',
    summary: "The caller's tokens, cost and cache savings over a range of UTC days",
    tag: 'jobs',
    auth: 'apiKey',
    query: usageQuerySchema,
    answers: {
      200: { description: 'the totals, and per model or day', json: usageReportSchema },
      400: error('a bad query'),
    },
  },
  ...OPERATION_ROUTES,
];
