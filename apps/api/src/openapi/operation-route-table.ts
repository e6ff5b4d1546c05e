import { z } from 'zod';
import { errorAnswer as error, type ApiRoute } from './api-route.js';
import { adminBatchListQuerySchema, adminBatchQuerySchema } from '../admin/admin-batch-routes.js';
import { BATCH_ID_PATTERN } from '../openai-compat/batches/batch-object.js';
import { healthSchema, readySchema } from './openapi-schemas.js';

const dashboardOff = error('the dashboard is off (no LLMQ_ADMIN_TOKEN)');

/** Health, metrics, this document and the dashboard: the routes outside /v1. */
export const OPERATION_ROUTES: ApiRoute[] = [
  {
    method: 'get',
    path: '/healthz',
    summary: 'The process is up',
    tag: 'operations',
    auth: 'none',
    answers: { 200: { description: 'up', json: healthSchema } },
  },
  {
    method: 'get',
    path: '/readyz',
    summary: 'Redis answers and the queues can be read',
    tag: 'operations',
    auth: 'none',
    answers: {
      200: { description: 'ready', json: readySchema },
      503: error('not ready: Redis unreachable, a queue unusable, or shutting down (the message says which)'),
    },
  },
  {
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics of this API process and of the queues',
    tag: 'operations',
    auth: 'metrics',
    answers: { 200: { description: 'Prometheus text format 0.0.4', media: 'text/plain' } },
  },
  {
    method: 'get',
    path: '/openapi.json',
    summary: 'This document',
    tag: 'operations',
    auth: 'none',
    answers: {
      200: {
        description: 'OpenAPI 3.1',
        json: z.looseObject({ openapi: z.literal('3.1.0'), paths: z.record(z.string(), z.unknown()) }),
      },
    },
  },
  {
    method: 'get',
    path: '/admin',
    summary: 'Redirects to the dashboard',
    tag: 'admin',
    auth: 'none',
    answers: { 303: { description: 'to /admin/queues', headers: { Location: '/admin/queues' } }, 404: dashboardOff },
  },
  {
    method: 'get',
    path: '/admin/login',
    summary: "The dashboard's login form",
    tag: 'admin',
    auth: 'none',
    answers: { 200: { description: 'the form', media: 'text/html' }, 404: dashboardOff },
  },
  {
    method: 'post',
    path: '/admin/login',
    summary: 'Log in with LLMQ_ADMIN_TOKEN; sets the session cookie',
    tag: 'admin',
    auth: 'none',
    body: { form: true },
    answers: {
      303: { description: 'logged in: to /admin/queues, with Set-Cookie', headers: { Location: '/admin/queues' } },
      401: error('wrong token (a browser gets the form again)'),
      404: dashboardOff,
      413: error('the form is larger than 4 KiB'),
      415: error('the form is not UTF-8'),
    },
  },
  ...(['get', 'post'] as const).map((method): ApiRoute => ({
    method,
    path: '/admin/logout',
    summary: method === 'get' ? "Log out (the dashboard menu's link)" : 'Log out (a form)',
    tag: 'admin',
    auth: 'none',
    answers: { 303: { description: 'to /admin/login', headers: { Location: '/admin/login' } }, 404: dashboardOff },
  })),
  {
    method: 'get',
    path: '/admin/queues',
    summary: 'The bull-board dashboard of the LLM and webhook queues',
    description:
      'Its own JSON API lives under /admin/queues/api/ behind the same login; its errors use the one error body.',
    tag: 'admin',
    auth: 'admin',
    answers: {
      200: { description: 'the dashboard', media: 'text/html' },
      303: { description: 'a browser that is not logged in: to /admin/login', headers: { Location: '/admin/login' } },
      401: error('not logged in and no admin token (a client that does not ask for HTML)'),
    },
  },
  {
    method: 'get',
    path: '/admin/batches',
    summary: "Every tenant's batches, newest first (an HTML page)",
    description:
      'Lists the batches of the tenants in LLMQ_API_KEYS; `after` is the last batch id of the previous page.',
    tag: 'admin',
    auth: 'admin',
    query: adminBatchListQuerySchema,
    patterns: { after: BATCH_ID_PATTERN },
    answers: {
      200: { description: 'the list', media: 'text/html' },
      303: { description: 'a browser that is not logged in: to /admin/login', headers: { Location: '/admin/login' } },
      400: error('a bad after or limit'),
      401: error('not logged in and no admin token (a client that does not ask for HTML)'),
      404: dashboardOff,
    },
  },
  {
    method: 'get',
    path: '/admin/batches/:tenant/:id',
    summary: 'One batch: its fields and its lines with links to their jobs (an HTML page)',
    tag: 'admin',
    auth: 'admin',
    query: adminBatchQuerySchema,
    patterns: { id: BATCH_ID_PATTERN },
    answers: {
      200: { description: 'the batch', media: 'text/html' },
      303: { description: 'a browser that is not logged in: to /admin/login', headers: { Location: '/admin/login' } },
      400: error('a bad from or limit'),
      401: error('not logged in and no admin token (a client that does not ask for HTML)'),
      404: error('no such batch of that tenant, or the dashboard is off'),
    },
  },
];
