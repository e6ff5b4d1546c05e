import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STACK_KEYS } from '@llmq/devkit';
import { batchBody, jobBody, rotateBody, validJob } from './fuzz-bodies.js';
import {
  headersWithBody,
  headersWithoutBody,
  jobIdSegment,
  queryString,
  queryValue,
  waitValue,
} from './fuzz-requests.js';
import { contractProblem, startFuzzTarget, type FuzzRequest, type FuzzTarget } from './fuzz-target.js';

/** Generated requests per route. */
const RUNS = 1_000;

let target: FuzzTarget;
/** Ids of real jobs: alpha's queued and canceled ones, and one of beta's (must look missing). */
const existing: string[] = [];
/** Per route: requests sent and the statuses they got. */
const tally = new Map<string, { requests: number; statuses: Map<number, number> }>();

async function check(route: string, request: FuzzRequest): Promise<void> {
  const response = await target.send(request);
  const entry = tally.get(route) ?? { requests: 0, statuses: new Map<number, number>() };
  entry.requests += 1;
  entry.statuses.set(response.status, (entry.statuses.get(response.status) ?? 0) + 1);
  tally.set(route, entry);
  // A HEAD answer has no body to check the shape of.
  const problem = request.method === 'HEAD' && response.status < 500 ? null : contractProblem(response);
  if (problem !== null) {
    const body = String(request.body).slice(0, 300);
    throw new Error(
      `${request.method} ${request.path.slice(0, 200)}: ${problem}\nheaders: ${JSON.stringify(request.headers).slice(0, 300)}\nbody: ${body}`,
    );
  }
  if (target.api.process.exitCode !== null || target.api.process.signalCode !== null) {
    throw new Error(`the API exited after ${request.method} ${request.path.slice(0, 200)}`);
  }
}

/** Runs RUNS generated requests; a failure names the shrunk request, not fast-check's full dump. */
async function fuzz<T>(route: string, arbitrary: fc.Arbitrary<T>, toRequest: (value: T) => FuzzRequest) {
  const details = await fc.check(
    fc.asyncProperty(arbitrary, (value) => check(route, toRequest(value))),
    { numRuns: RUNS },
  );
  if (details.failed) {
    const cause = details.errorInstance instanceof Error ? details.errorInstance.message : 'failed';
    throw new Error(`${route} (seed ${details.seed}, path ${details.counterexamplePath ?? '?'}): ${cause}`);
  }
}

const megabytes = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

/** RSS as it stands, then RSS and heap in use after a full GC. */
async function memorySnapshot() {
  const rss = await target.rss();
  const afterGc = await target.memoryAfterGc();
  return { rss, gcRss: afterGc.rss, heapUsed: afterGc.heapUsed };
}

beforeAll(async () => {
  target = await startFuzzTarget();
  const submit = async (key: string, body: unknown) => {
    const response = await target.send({
      method: 'POST',
      path: '/v1/jobs',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return String((JSON.parse(response.text) as { id: string }).id);
  };
  const samples = fc.sample(validJob, { numRuns: 4, seed: 1 });
  for (const job of samples) existing.push(await submit(STACK_KEYS.alpha, job));
  existing.push(await submit(STACK_KEYS.beta, samples[0]));
  const canceled = existing[0] ?? '';
  await target.send({
    method: 'DELETE',
    path: `/v1/jobs/${canceled}`,
    headers: { authorization: `Bearer ${STACK_KEYS.alpha}` },
  });
}, 60_000);

afterAll(async () => {
  const lines = [...tally].map(
    ([route, { requests, statuses }]) =>
      `  ${route}: ${requests} requests, statuses ${[...statuses]
        .sort(([a], [b]) => a - b)
        .map(([status, count]) => `${status}x${count}`)
        .join(' ')}`,
  );
  process.stdout.write(`api fuzz:\n${lines.join('\n')}\n`);
  await target?.stop();
});

describe('API fuzz: zero 5xx, one error shape, the process stays up, memory stays flat', () => {
  it('survives every route with generated bodies, headers and paths', async () => {
    const ids = jobIdSegment(existing);
    // Warm-up: the JIT, pools and caches settle before the first RSS reading.
    await fuzz('warm-up', fc.tuple(jobBody, headersWithBody), ([body, headers]) => ({
      method: 'POST',
      path: '/v1/jobs',
      headers,
      body,
    }));
    const afterWarmUp = await memorySnapshot();

    await fuzz('POST /v1/jobs', fc.tuple(jobBody, headersWithBody), ([body, headers]) => ({
      method: 'POST',
      path: '/v1/jobs',
      headers,
      body,
    }));
    await fuzz('POST /v1/jobs/batch', fc.tuple(batchBody, headersWithBody), ([body, headers]) => ({
      method: 'POST',
      path: '/v1/jobs/batch',
      headers,
      body,
    }));
    await fuzz(
      'GET /v1/jobs/{id}',
      fc.tuple(ids, queryString(['wait'], waitValue), headersWithoutBody),
      ([id, query, headers]) => ({ method: 'GET', path: `/v1/jobs/${id}${query}`, headers }),
    );
    await fuzz(
      'GET /v1/jobs',
      fc.tuple(queryString(['limit', 'status', 'after'], queryValue(existing)), headersWithoutBody),
      ([query, headers]) => ({ method: 'GET', path: `/v1/jobs${query}`, headers }),
    );
    await fuzz('DELETE /v1/jobs/{id}', fc.tuple(ids, headersWithoutBody), ([id, headers]) => ({
      method: 'DELETE',
      path: `/v1/jobs/${id}`,
      headers,
    }));
    await fuzz('GET /v1/jobs/{id}/events', fc.tuple(ids, headersWithoutBody), ([id, headers]) => ({
      method: 'GET',
      path: `/v1/jobs/${id}/events`,
      headers,
      headersOnly: true,
    }));
    await fuzz(
      'POST /v1/jobs/{id}/webhook/redeliver',
      fc.tuple(ids, rotateBody, headersWithBody),
      ([id, body, headers]) => ({ method: 'POST', path: `/v1/jobs/${id}/webhook/redeliver`, headers, body }),
    );
    await fuzz(
      'GET /v1/webhook-secret',
      fc.tuple(queryString(['id'], queryValue(existing)), headersWithoutBody),
      ([query, headers]) => ({
        method: 'GET',
        path: `/v1/webhook-secret${query}`,
        headers,
      }),
    );
    await fuzz('POST /v1/webhook-secret/rotate', fc.tuple(rotateBody, headersWithBody), ([body, headers]) => ({
      method: 'POST',
      path: '/v1/webhook-secret/rotate',
      headers,
      body,
    }));
    await fuzz(
      'DELETE /v1/webhook-secret/{id}',
      fc.tuple(fc.oneof(ids, fc.constantFrom('whs_nothing', 'whs_', '')), headersWithoutBody),
      ([id, headers]) => ({ method: 'DELETE', path: `/v1/webhook-secret/${id}`, headers }),
    );
    await fuzz(
      'other routes and methods',
      fc.tuple(
        fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'),
        fc.constantFrom(
          '/',
          '/healthz',
          '/readyz',
          '/metrics',
          '/openapi.json',
          '/admin/queues',
          '/admin/queues/api/queues',
          '/v1',
          '/v1/usage',
          '/v1/jobs/batch/x',
          '/v1/webhook-secret/rotate/x',
          '/%',
          '/v1/%zz',
        ),
        fc.oneof(headersWithoutBody, fc.constant({ authorization: 'Bearer admin-token-0123456789abcdef' })),
      ),
      ([method, path, headers]) => ({ method, path, headers }),
    );

    const atEnd = await memorySnapshot();
    process.stdout.write(
      `api fuzz memory: RSS ${megabytes(afterWarmUp.rss)} -> ${megabytes(atEnd.rss)} MiB as it stood; ` +
        `after a full GC: RSS ${megabytes(afterWarmUp.gcRss)} -> ${megabytes(atEnd.gcRss)} MiB, ` +
        `V8 heap ${megabytes(afterWarmUp.heapUsed)} -> ${megabytes(atEnd.heapUsed)} MiB\n`,
    );
    // After a full GC, what is left is what the process holds on to: a leak of even 1 KiB per
    // request would add over 10 MiB of heap across these 11,000 requests.
    expect(atEnd.heapUsed - afterWarmUp.heapUsed).toBeLessThan(8 * 2 ** 20);
    expect(atEnd.gcRss - afterWarmUp.gcRss).toBeLessThan(48 * 2 ** 20);
    expect(target.api.lines.filter((line) => line.includes('"level":50') || line.includes('unhandled'))).toEqual([]);
  }, 180_000);
});
