import { describe, expect } from 'vitest';
import { redisTest } from '@llmq/devkit/vitest';
import { chatSubmission, startTestApi } from '../__fixtures__/test-api.js';

const test = redisTest.extend('api', { scope: 'file' }, async ({ redisUrl }, { onCleanup }) => {
  const api = await startTestApi({ redisUrl });
  onCleanup(() => api.close());
  return api;
});

/** A well-formed job id that names no job. */
const ID = 'job_00000000000000000000000000';
const STATUSES = 'must be one of queued, running, succeeded, failed, canceled';
const KEY_RULE = 'must be 1 to 255 visible ASCII characters';
const EVENT_ID_RULE =
  'Last-Event-ID: must be an id this stream sent, <transitions>.<attempt>.<offset> such as "3.1.120"';

// Each bad query string, path id or header, and the message that must name its problem.
const cases: Array<[method: string, path: string, headers: Record<string, string>, status: number, message: string]> = [
  ['GET', '/v1/jobs?limit=0', {}, 400, 'query: limit: must be at least 1'],
  ['GET', '/v1/jobs?limit=-3', {}, 400, 'query: limit: must be at least 1'],
  ['GET', '/v1/jobs?limit=101', {}, 400, 'query: limit: must be at most 100'],
  ['GET', '/v1/jobs?limit=1.5', {}, 400, 'query: limit: must be a whole number'],
  ['GET', '/v1/jobs?limit=abc', {}, 400, 'query: limit: must be a whole number from 1 to 100'],
  ['GET', '/v1/jobs?limit=', {}, 400, 'query: limit: must be a whole number from 1 to 100'],
  ['GET', '/v1/jobs?limit=0x10', {}, 400, 'query: limit: must be a whole number from 1 to 100'],
  ['GET', '/v1/jobs?limit=1e1', {}, 400, 'query: limit: must be a whole number from 1 to 100'],
  ['GET', '/v1/jobs?limit=10&limit=20', {}, 400, 'query: limit: must be given once'],
  ['GET', '/v1/jobs?status=done', {}, 400, `query: status: ${STATUSES}`],
  ['GET', '/v1/jobs?status=', {}, 400, `query: status: ${STATUSES}`],
  ['GET', '/v1/jobs?status=queued&status=running', {}, 400, 'query: status: must be given once'],
  ['GET', '/v1/jobs?after=abc', {}, 400, 'query: after: must be a job id from a previous page'],
  ['GET', '/v1/jobs?after=', {}, 400, 'query: after: must be a job id from a previous page'],
  ['GET', '/v1/jobs?page=2', {}, 400, 'query: unknown field "page"'],
  ['GET', '/v1/jobs?limit=0&status=x', {}, 400, `query: limit: must be at least 1; status: ${STATUSES}`],
  ['GET', `/v1/jobs/${ID}?wait=-1`, {}, 400, 'query: wait: must be at least 0'],
  ['GET', `/v1/jobs/${ID}?wait=61`, {}, 400, 'query: wait: must be at most 60'],
  ['GET', `/v1/jobs/${ID}?wait=abc`, {}, 400, 'query: wait: must be a number of seconds from 0 to 60'],
  ['GET', `/v1/jobs/${ID}?wait=`, {}, 400, 'query: wait: must be a number of seconds from 0 to 60'],
  ['GET', `/v1/jobs/${ID}?wait=0x10`, {}, 400, 'query: wait: must be a number of seconds from 0 to 60'],
  ['GET', `/v1/jobs/${ID}?wait=Infinity`, {}, 400, 'query: wait: must be a number of seconds from 0 to 60'],
  ['GET', `/v1/jobs/${ID}?wait=1&wait=2`, {}, 400, 'query: wait: must be given once'],
  ['GET', `/v1/jobs/${ID}?timeout=5`, {}, 400, 'query: unknown field "timeout"'],
  // An id that is not one answers like one that names no job: neither says more than "none".
  ['GET', '/v1/jobs/nope', {}, 404, 'no job with id "nope"'],
  ['GET', `/v1/jobs/${ID}`, {}, 404, `no job with id "${ID}"`],
  ['DELETE', '/v1/jobs/nope', {}, 404, 'no job with id "nope"'],
  ['GET', '/v1/jobs/nope/events', {}, 404, 'no job with id "nope"'],
  ['POST', '/v1/jobs/nope/webhook/redeliver', {}, 404, 'no job with id "nope"'],
  ['DELETE', '/v1/webhook-secret/nope', {}, 404, 'no webhook secret with id "nope"'],
  ['GET', `/v1/jobs/${ID}/events`, { 'last-event-id': 'x' }, 400, EVENT_ID_RULE],
  ['GET', `/v1/jobs/${ID}/events`, { 'last-event-id': '1.2' }, 400, EVENT_ID_RULE],
  ['GET', '/v1/usage?group_by=tenant', {}, 400, 'query: group_by: must be "model" or "day"'],
  ['GET', '/v1/usage?from=2026-13-01', {}, 400, 'query: from: is not a calendar date'],
];

// Idempotency-Key values and what is wrong with each.
const keys: Array<[key: string, problem: string]> = [
  ['', `is empty; ${KEY_RULE}`],
  ['k'.repeat(256), `is 256 characters long; ${KEY_RULE}`],
  ['two words', `holds a space, a control or a non-ASCII character; ${KEY_RULE}`],
  ['clé', `holds a space, a control or a non-ASCII character; ${KEY_RULE}`],
];

describe('every bad query string, path id and header is named with its problem', () => {
  test.for(cases)('%s %s %o: %i', async ([method, path, headers, status, message], { api }) => {
    const response = await api.call(path, { method, headers });
    expect(response.status).toBe(status);
    expect(response.body).toEqual({ error: { type: status === 404 ? 'not_found' : 'invalid_request', message } });
  });

  test.for(keys)('Idempotency-Key %j', async ([key, problem], { api }) => {
    for (const path of ['/v1/jobs', '/v1/jobs/batch']) {
      const body = path === '/v1/jobs' ? chatSubmission() : { jobs: [chatSubmission()] };
      // fetch sends Latin-1 header values as they are; a key outside it could not be sent at all.
      const response = await api.call(path, {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { 'idempotency-key': Buffer.from(key, 'utf8').toString('latin1') },
      });
      expect(response.status, path).toBe(400);
      expect(response.body).toEqual({ error: { type: 'invalid_request', message: `Idempotency-Key: ${problem}` } });
    }
  });
});
