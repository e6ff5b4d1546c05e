import { OPENAI_COMPAT_ROUTES } from './openai-compat-route-table.js';
import { rotateBodySchema } from '../routes/webhook-routes.js';
import { getQuerySchema, listQuerySchema } from '../routes/jobs-routes.js';
import { usageQuerySchema } from '../routes/usage-routes.js';
import { usageReportSchema, webhookSecretSchema } from './openapi-schemas.js';
import { errorAnswer, type ApiRoute, type RouteAnswer } from './api-route.js';
import { JOB_EVENT_ID_PATTERN, jobEventSchema } from './job-event-schemas.js';
import { JOB_ID_PATTERN, jobBatchAcceptedSchema, jobListSchema, jobObjectSchema } from './job-object-schemas.js';
import { OPERATION_ROUTES } from './operation-route-table.js';
import { BATCH_FILE_ROUTES } from './batch-file-route-table.js';
import { BATCH_ROUTES } from './batch-route-table.js';
import { IDEMPOTENCY_KEY_SCHEMA } from './submission-constraints.js';

const job = (description: string): RouteAnswer => ({ description, json: jobObjectSchema });
const error = errorAnswer;
const jobNotFound = error("no such job (another tenant's job, or an id that is not a job id, answers the same)");
/** Routes under /v1/jobs/{id} answer 404 for an id that is not a job id. */
const jobId = { id: JOB_ID_PATTERN };
const idempotencyKey = {
  name: 'Idempotency-Key',
  description: '1 to 255 visible ASCII characters; per tenant; a retry with it never creates a second job',
  schema: IDEMPOTENCY_KEY_SCHEMA,
};
const budgetExceeded = error(
  "the jobs' estimated cost does not fit in the tenant's monthly budget (spent + held by unfinished jobs)",
);

/**
 * Every route the API serves. openapi.test.ts walks the Express app and fails when a route is
 * missing here, so a new route comes with its documentation.
 */
export const API_ROUTES: ApiRoute[] = [
  ...OPENAI_COMPAT_ROUTES,
  {
    method: 'post',
    path: '/v1/jobs',
    summary: 'Submit a job',
    description:
      'Validates the job and queues it. With `Idempotency-Key`, the same key and body within 24 h answer with the same job; the same key with another body is a 422.',
    tag: 'jobs',
    auth: 'apiKey',
    body: { schema: 'JobSubmission', required: true },
    headers: [idempotencyKey],
    answers: {
      202: {
        description: 'queued (or, for a repeated Idempotency-Key, the job it created)',
        json: jobObjectSchema,
        headers: {
          Location: '/v1/jobs/{id}',
          'Idempotent-Replayed': '"true" when the job came from an earlier request',
        },
      },
      400: error('the body is invalid, or the Idempotency-Key malformed; the message names the field'),
      402: budgetExceeded,
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
    description:
      'With `Idempotency-Key`, the same key and body within 24 h answer with the same jobs and create none; the same key with another body is a 422.',
    tag: 'jobs',
    auth: 'apiKey',
    body: { schema: 'JobBatchSubmission', required: true },
    headers: [idempotencyKey],
    answers: {
      202: {
        description: 'every job queued (or, for a repeated Idempotency-Key, the jobs it created)',
        json: jobBatchAcceptedSchema,
        headers: { 'Idempotent-Replayed': '"true" when the jobs came from an earlier request' },
      },
      400: error('a job is invalid (the message names it), or the Idempotency-Key malformed'),
      402: budgetExceeded,
      409: error('a request with the same Idempotency-Key is still being processed'),
      413: error('the body is larger than LLMQ_MAX_BODY_BYTES'),
      415: error('the body is not JSON'),
      422: error('the Idempotency-Key was used with a different body (type idempotency_conflict)'),
    },
  },
  {
    method: 'get',
    path: '/v1/jobs',
    summary: "The caller's jobs, newest first",
    tag: 'jobs',
    auth: 'apiKey',
    query: listQuerySchema,
    patterns: { after: JOB_ID_PATTERN },
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
    patterns: jobId,
    answers: { 200: job('the job'), 400: error('a bad query parameter'), 404: jobNotFound },
  },
  {
    method: 'delete',
    path: '/v1/jobs/:id',
    summary: 'Cancel a queued or running job',
    tag: 'jobs',
    auth: 'apiKey',
    patterns: jobId,
    answers: { 200: job('canceled'), 404: jobNotFound, 409: error('the job has already ended') },
  },
  {
    method: 'get',
    path: '/v1/jobs/:id/events',
    summary: "A job's status changes and streamed output, as Server-Sent Events",
    description:
      '`status` events carry the job object: at connect, then at each status change; `delta` events carry `{attempt, offset, text}` while a chat job streams. Every event has an `id:`, the stream position after it; an EventSource sends the last one back as `Last-Event-ID` on reconnect and the stream resumes after it, with no status or text repeated or lost. The stream closes after the status event that ends the job (succeeded, failed or canceled, with its result or error): that is the end-of-stream signal. A reconnect that already holds it answers 204, which stops an EventSource.',
    tag: 'jobs',
    auth: 'apiKey',
    patterns: jobId,
    headers: [
      {
        name: 'Last-Event-ID',
        description: 'the `id:` of the last event received: resume after it (empty or absent: from the start)',
        schema: { type: 'string', pattern: `^(?:${JOB_EVENT_ID_PATTERN.slice(1, -1)})?$` },
      },
    ],
    answers: {
      200: {
        description:
          'the event stream (`: keep-alive` comments every 15 s); its schema is that of one event: the SSE `event`, `id` and parsed `data`',
        media: 'text/event-stream',
        schema: jobEventSchema,
      },
      204: { description: 'Last-Event-ID names the final status: the stream has ended and nothing follows' },
      400: error('Last-Event-ID is not an id this stream sent, or names a later transition than the job has made'),
      404: jobNotFound,
    },
  },
  {
    method: 'post',
    path: '/v1/jobs/:id/webhook/redeliver',
    summary: "Send an ended job's webhook event again",
    tag: 'webhooks',
    auth: 'apiKey',
    patterns: jobId,
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
      400: error('grace_seconds is not a whole number of seconds from 0 to 30 days'),
      415: error('a body that is not JSON (no body at all is fine)'),
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
  ...BATCH_FILE_ROUTES,
  ...BATCH_ROUTES,
  ...OPERATION_ROUTES,
];
