import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { CorruptJobRecordError, createLogger } from '@llmq/core';
import { errorHandler } from './error-handler.js';
import { HttpError } from './http-error.js';

async function withApp(run: (base: string) => Promise<void>): Promise<void> {
  const app = express();
  const logger = createLogger({ name: 'test', level: 'silent' });
  app.use((request, _response, next) => {
    request.log = logger;
    next();
  });
  app.use(express.json());
  app.get('/v1/jobs/:id', (request, response) => {
    response.json({ id: request.params.id });
  });
  app.post('/v1/jobs', (request, response) => {
    response.json({ body: request.body as unknown });
  });
  app.get('/v1/busy', () => {
    throw new HttpError(503, 'unavailable', 'the job could not be accepted');
  });
  app.get('/v1/damaged', () => {
    throw new CorruptJobRecordError('job_damaged', 'status: Invalid option');
  });
  app.use(errorHandler);
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    await run(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    server.close();
  }
}

// Found by the API fuzz: 4xx errors of Express's own layers, which carry a status but no
// body-parser type, were answered 500.
describe('errorHandler, for errors Express raises before a route runs', () => {
  it('a path parameter that is not valid percent-encoding is a 400', async () => {
    await withApp(async (base) => {
      const response = await fetch(`${base}/v1/jobs/%zz`);
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({
        error: { type: 'invalid_request', message: 'the path is not valid percent-encoding' },
      });
    });
  });

  it('a body that is not in its Content-Encoding is a 400; one that is, is read', async () => {
    await withApp(async (base) => {
      const post = (body: Buffer | string) =>
        fetch(`${base}/v1/jobs`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
          body,
        });
      const garbage = await post('{"not":"gzip"}');
      expect(garbage.status).toBe(400);
      expect(await garbage.json()).toEqual({
        error: { type: 'invalid_request', message: 'request body is not encoded as its Content-Encoding says' },
      });
      const real = await post(gzipSync('{"is":"gzip"}'));
      expect(await real.json()).toEqual({ body: { is: 'gzip' } });
    });
  });

  it('a 503 a route throws itself says when to come back', async () => {
    await withApp(async (base) => {
      const response = await fetch(`${base}/v1/busy`);
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('1');
      expect(await response.json()).toEqual({
        error: { type: 'unavailable', message: 'the job could not be accepted' },
      });
    });
  });
});

describe('errorHandler, for a job record the store holds damaged', () => {
  it('is a 503 naming the job, with Retry-After, not a 500, and shows no stored field', async () => {
    await withApp(async (base) => {
      const response = await fetch(`${base}/v1/damaged`);
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('60');
      const body = (await response.json()) as { error: { type: string; message: string } };
      expect(body).toEqual({
        error: { type: 'unavailable', message: 'job job_damaged cannot be read from the job store' },
      });
    });
  });
});
