import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LLM_QUEUE_NAME, QUEUE_PREFIX, type LlmJobData, createRedisConnection } from '@llmq/core';
import { startLlmqStack, type Stack } from '@llmq/devkit';
import {
  startWebhookReceiver,
  type WebhookReceiver,
} from '../../packages/core/src/webhooks/__fixtures__/webhook-receiver.js';
import { llmqClient } from '../support/llmq-client.js';
import { SPAN_KIND, startOtlpCollector, type OtlpCollector, type ReceivedSpan } from '../support/otlp-collector.js';
import { WEBHOOK_STACK_CONFIG } from './webhooks-support.js';

// What must never reach a span: the prompt, the receiver's path and query, the keys.
const PROMPT = 'Tell me about the purple walrus 7f3a9c';
const HOOK_PATH = 'hooks/receiver-path-token-91b2';
const HOOK_QUERY = 'query-token-44d8';

let stack: Stack;
let collector: OtlpCollector;
let receiver: WebhookReceiver;
let client: ReturnType<typeof llmqClient>;

beforeAll(async () => {
  [collector, receiver] = await Promise.all([startOtlpCollector(), startWebhookReceiver({ host: '127.0.0.2' })]);
  receiver.handle((_request, response) => void response.writeHead(200).end('ok'));
  const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_BSP_SCHEDULE_DELAY: '100' };
  stack = await startLlmqStack({
    // rpm 30 holds one call and refills one every 2 s: of three jobs sent at once, two park.
    config: `${WEBHOOK_STACK_CONFIG}limits:\n  openai/trace-parked: { rpm: 30 }\n`,
    apiEnv: otel,
    workerEnv: otel,
  });
  client = llmqClient(stack);
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  await Promise.all([collector?.close(), receiver?.close()]);
});

const child = (spans: ReceivedSpan[], parent: ReceivedSpan) =>
  spans.filter((span) => span.parentSpanId === parent.spanId && span.traceId === parent.traceId);

/** Waits until the spans `ready` asks for have arrived, then returns every span of the trace(s) it names. */
async function spansOnceArrived(ready: (spans: ReceivedSpan[]) => boolean): Promise<ReceivedSpan[]> {
  await expect.poll(() => ready(collector.spans), { timeout: 20_000, interval: 100 }).toBe(true);
  return [...collector.spans];
}

function onlyOne(spans: ReceivedSpan[], description: string): ReceivedSpan {
  expect(spans, description).toHaveLength(1);
  const [span] = spans;
  if (span === undefined) throw new Error(description);
  return span;
}

describe('OpenTelemetry traces from the real API and worker processes', () => {
  it('one trace per job: request, enqueue, each run, each provider attempt, the result write and the webhook', async () => {
    await client.faults([{ match: { model: 'trace-retry' }, fault: '500', count: 1 }]);
    const { status, body } = await client.submit({
      type: 'chat',
      request: { model: 'openai/trace-retry', messages: [{ role: 'user', content: PROMPT }], max_tokens: 30 },
      attempts: 2,
      webhook: { url: `${receiver.url}/${HOOK_PATH}?token=${HOOK_QUERY}` },
    });
    expect(status).toBe(202);
    const id = String(body.id);
    const job = await client.waitForEnd(id);
    expect(job.status).toBe('succeeded');
    expect(job.attempt_log.map((entry) => entry.error?.type ?? 'ok')).toEqual(['provider_error', 'ok']);
    const detail = job as unknown as {
      usage: { input_tokens: number; output_tokens: number };
      result: { choices: Array<{ message: { content: string }; finish_reason: string }> };
    };
    const answer = detail.result.choices[0]?.message.content;
    expect(answer?.length).toBeGreaterThan(0);

    const spans = await spansOnceArrived((all) =>
      all.some((span) => span.name === 'POST' && span.attributes['llmq.job.id'] === id),
    );

    // The API's side: the request's SERVER span, and under it the enqueue (PRODUCER).
    const enqueue = onlyOne(
      spans.filter((span) => span.name === 'send llm-jobs' && span.attributes['llmq.job.id'] === id),
      'one enqueue span',
    );
    expect(enqueue.service).toBe('llmq-api');
    expect(enqueue.kind).toBe(SPAN_KIND.producer);
    const request = onlyOne(
      spans.filter((span) => span.spanId === enqueue.parentSpanId),
      'the enqueue under the request',
    );
    expect(request).toMatchObject({ name: 'POST /v1/jobs', kind: SPAN_KIND.server, parentSpanId: '' });
    expect(request.attributes).toMatchObject({ 'http.route': '/v1/jobs', 'http.response.status_code': 202 });
    const traceId = request.traceId;

    // Every span of the job, whichever process wrote it, is in that one trace.
    const ofJob = spans.filter((span) => span.attributes['llmq.job.id'] === id);
    expect(new Set(ofJob.map((span) => span.traceId))).toEqual(new Set([traceId]));

    // The worker's side: two runs (the retry and the answer), each a CONSUMER span under the enqueue.
    const runs = child(spans, enqueue)
      .filter((span) => span.name === 'process llm-jobs')
      .sort((a, b) => (a.startNs < b.startNs ? -1 : 1));
    expect(runs.map((run) => [run.service, run.kind, run.attributes['llmq.job.outcome']])).toEqual([
      ['llmq-worker', SPAN_KIND.consumer, 'retry'],
      ['llmq-worker', SPAN_KIND.consumer, 'succeeded'],
    ]);
    const [firstRun, secondRun] = runs as [ReceivedSpan, ReceivedSpan];

    // A provider call span per attempt, with the GenAI conventions' attributes; the failed one says why.
    const failedCall = onlyOne(child(spans, firstRun), 'one call in the first run');
    expect(failedCall).toMatchObject({ name: 'chat trace-retry', kind: SPAN_KIND.client, statusCode: 2 });
    expect(failedCall.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'trace-retry',
      'error.type': 'provider_error',
    });
    const secondChildren = child(spans, secondRun);
    const answeredCall = onlyOne(
      secondChildren.filter((span) => span.kind === SPAN_KIND.client),
      'one call in the second run',
    );
    expect(answeredCall.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'trace-retry',
      'gen_ai.response.model': 'trace-retry',
      'gen_ai.usage.input_tokens': detail.usage.input_tokens,
      'gen_ai.usage.output_tokens': detail.usage.output_tokens,
      'gen_ai.response.finish_reasons': detail.result.choices.map((choice) => choice.finish_reason),
    });
    expect(answeredCall.attributes['error.type']).toBeUndefined();

    // The result write, the end's follow-up under it, and the webhook's HTTP CLIENT span under that.
    const succeed = onlyOne(
      secondChildren.filter((span) => span.name === 'llmq.job.succeed'),
      'the succeed transition',
    );
    const ended = onlyOne(child(spans, succeed), 'the end dispatch under the result write');
    expect(ended.name).toBe('llmq.job.ended');
    const delivery = onlyOne(child(spans, ended), 'the webhook delivery under the end');
    expect(delivery).toMatchObject({ name: 'POST', kind: SPAN_KIND.client, statusCode: 0 });
    expect(delivery.attributes).toMatchObject({
      'http.request.method': 'POST',
      'server.address': '127.0.0.2',
      'server.port': receiver.port,
      'http.response.status_code': 200,
      'llmq.webhook.origin': receiver.url,
    });

    // Nothing secret in any span of any export: no prompt, answer, key or webhook path/query.
    const exported = collector.bodies.join('\n');
    const secrets = [
      PROMPT,
      answer,
      HOOK_PATH,
      HOOK_QUERY,
      stack.keys.alpha,
      'sk-simulator-key',
      'sk-ant-simulator-key',
    ];
    for (const secret of secrets) {
      expect(secret).toBeTruthy();
      expect(exported.includes(String(secret)), `an export carries "${secret}"`).toBe(false);
    }
  });

  it('a job that fails for good: the run and its call carry the error type, and the fail transition leads to the webhook', async () => {
    await client.faults([{ match: { model: 'trace-quota' }, fault: 'insufficient_quota' }]);
    const { body } = await client.submit({
      type: 'chat',
      request: { model: 'openai/trace-quota', messages: [{ role: 'user', content: PROMPT }] },
      webhook: { url: `${receiver.url}/${HOOK_PATH}` },
    });
    const id = String(body.id);
    const job = await client.waitForEnd(id);
    expect(job.error?.type).toBe('quota_exceeded');
    const spans = await spansOnceArrived((all) =>
      all.some((span) => span.name === 'POST' && span.attributes['llmq.job.id'] === id),
    );
    const run = onlyOne(
      spans.filter((span) => span.name === 'process llm-jobs' && span.attributes['llmq.job.id'] === id),
      'one run',
    );
    expect(run).toMatchObject({
      statusCode: 2,
      attributes: { 'error.type': 'quota_exceeded', 'llmq.job.outcome': 'failed' },
    });
    const call = onlyOne(
      child(spans, run).filter((span) => span.kind === SPAN_KIND.client),
      'one call',
    );
    expect(call.attributes).toMatchObject({ 'gen_ai.request.model': 'trace-quota', 'error.type': 'quota_exceeded' });
    expect(call.attributes['gen_ai.usage.output_tokens']).toBeUndefined();
    const fail = onlyOne(
      child(spans, run).filter((span) => span.name === 'llmq.job.fail'),
      'the fail transition',
    );
    expect(fail.attributes['llmq.job.error.type']).toBe('quota_exceeded');
    const ended = onlyOne(child(spans, fail), 'the end under the fail transition');
    expect(onlyOne(child(spans, ended), 'the webhook under the end').name).toBe('POST');
  });

  it("a canceled job's end and webhook are traced under the DELETE request", async () => {
    await client.faults([{ match: { model: 'trace-held' }, fault: 'hold' }]);
    const { body } = await client.submit({
      type: 'chat',
      request: { model: 'openai/trace-held', messages: [{ role: 'user', content: 'held' }] },
      webhook: { url: `${receiver.url}/${HOOK_PATH}` },
    });
    const id = String(body.id);
    await expect.poll(async () => (await client.get(id)).body.status, { timeout: 20_000 }).toBe('running');
    expect((await client.cancel(id)).status).toBe(200);
    const spans = await spansOnceArrived((all) =>
      all.some((span) => span.name === 'POST' && span.attributes['llmq.job.id'] === id),
    );
    const cancel = onlyOne(
      spans.filter((span) => span.name === 'DELETE /v1/jobs/:id'),
      'one cancel request',
    );
    const ended = onlyOne(child(spans, cancel), 'the end under the cancel');
    expect(ended.attributes).toMatchObject({ 'llmq.job.id': id, 'llmq.job.status': 'canceled' });
    expect(onlyOne(child(spans, ended), 'the webhook under the end').name).toBe('POST');
    // The run the cancel aborted stays in the job's own trace, under its enqueue.
    const enqueue = onlyOne(
      spans.filter((span) => span.name === 'send llm-jobs' && span.attributes['llmq.job.id'] === id),
      'one enqueue',
    );
    const run = onlyOne(
      child(spans, enqueue).filter((span) => span.name === 'process llm-jobs'),
      'the aborted run',
    );
    expect(run.attributes['llmq.job.outcome']).toBe('skipped');
  });

  it('an embedding job: its call is an `embeddings` span with the input tokens', async () => {
    const { body } = await client.submit({
      type: 'embedding',
      request: { model: 'openai/text-embedding-3-small', input: ['one fact', 'two facts'] },
    });
    const id = String(body.id);
    const job = await client.waitForEnd(id);
    expect(job.status).toBe('succeeded');
    const inputTokens = (job as unknown as { usage: { input_tokens: number } }).usage.input_tokens;
    const spans = await spansOnceArrived((all) =>
      all.some((span) => span.name === 'llmq.job.succeed' && span.attributes['llmq.job.id'] === id),
    );
    const run = onlyOne(
      spans.filter((span) => span.name === 'process llm-jobs' && span.attributes['llmq.job.id'] === id),
      'one run',
    );
    const call = onlyOne(
      child(spans, run).filter((span) => span.kind === SPAN_KIND.client),
      'one call',
    );
    expect(call.name).toBe('embeddings text-embedding-3-small');
    expect(call.attributes).toMatchObject({
      'gen_ai.operation.name': 'embeddings',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'text-embedding-3-small',
      'gen_ai.usage.input_tokens': inputTokens,
    });
    expect(inputTokens).toBeGreaterThan(0);
    expect(call.attributes['gen_ai.response.finish_reasons']).toBeUndefined();
  });

  it('a job held back by the rate limit shows each park on its run span, with the reason and the wait', async () => {
    const ids = await Promise.all(
      Array.from({ length: 3 }, async (_, index) => {
        const { body } = await client.submit({
          type: 'chat',
          request: { model: 'openai/trace-parked', messages: [{ role: 'user', content: `park ${index}` }] },
        });
        return String(body.id);
      }),
    );
    for (const id of ids) expect((await client.waitForEnd(id)).status).toBe('succeeded');
    const succeeded = (all: ReceivedSpan[], id: string) =>
      all.some((span) => span.name === 'llmq.job.succeed' && span.attributes['llmq.job.id'] === id);
    const spans = await spansOnceArrived((all) => ids.every((id) => succeeded(all, id)));

    const parkedRuns = spans.filter(
      (span) =>
        span.name === 'process llm-jobs' &&
        ids.includes(String(span.attributes['llmq.job.id'])) &&
        span.events.some((event) => event.name === 'llmq.job.parked'),
    );
    expect(parkedRuns.length).toBeGreaterThan(0);
    for (const run of parkedRuns) {
      expect(run.attributes['llmq.job.outcome']).toBe('parked');
      const park = run.events.find((event) => event.name === 'llmq.job.parked');
      // Past the limit the job waits for its turn in the model's fair queue.
      expect(park?.attributes['llmq.wait.reason']).toBe('fair_share');
      expect(Number(park?.attributes['llmq.wait.ms'])).toBeGreaterThan(0);
      // The run that parked and the run that answered are in the same trace, under the same enqueue.
      const later = spans.filter(
        (span) =>
          span.name === 'process llm-jobs' &&
          span.parentSpanId === run.parentSpanId &&
          span.attributes['llmq.job.outcome'] === 'succeeded',
      );
      expect(later.map((span) => span.traceId)).toEqual([run.traceId]);
    }
  });

  it("a client's traceparent header makes the job's trace the client's", async () => {
    const clientTrace = '5b8efff798038103d269b633813fc60c';
    const clientSpan = 'eee19b7ec3c1b174';
    const response = await fetch(`${stack.apiUrl}/v1/jobs`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${stack.keys.alpha}`,
        'content-type': 'application/json',
        traceparent: `00-${clientTrace}-${clientSpan}-01`,
      },
      body: JSON.stringify({
        type: 'chat',
        request: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'traced by the client' }] },
      }),
    });
    expect(response.status).toBe(202);
    const id = ((await response.json()) as { id: string }).id;
    expect((await client.waitForEnd(id)).status).toBe('succeeded');
    const spans = await spansOnceArrived((all) =>
      all.some((span) => span.name === 'llmq.job.succeed' && span.attributes['llmq.job.id'] === id),
    );
    const enqueue = onlyOne(
      spans.filter((span) => span.name === 'send llm-jobs' && span.attributes['llmq.job.id'] === id),
      'one enqueue',
    );
    const request = onlyOne(
      spans.filter((span) => span.spanId === enqueue.parentSpanId),
      'the request',
    );
    expect(request).toMatchObject({ traceId: clientTrace, parentSpanId: clientSpan, name: 'POST /v1/jobs' });
    const ofJob = spans.filter((span) => span.attributes['llmq.job.id'] === id);
    expect(new Set(ofJob.map((span) => span.traceId))).toEqual(new Set([clientTrace]));
  });

  it('a batch gives each job a trace of its own, linked to the request', async () => {
    const response = await fetch(`${stack.apiUrl}/v1/jobs/batch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.keys.alpha}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        jobs: [1, 2].map((index) => ({
          type: 'chat',
          request: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: `batch ${index}` }] },
        })),
      }),
    });
    expect(response.status).toBe(202);
    const ids = ((await response.json()) as { data: Array<{ id: string }> }).data.map((job) => job.id);
    for (const id of ids) expect((await client.waitForEnd(id)).status).toBe('succeeded');
    const spans = await spansOnceArrived((all) =>
      ids.every((id) => all.some((span) => span.name === 'llmq.job.succeed' && span.attributes['llmq.job.id'] === id)),
    );
    const request = onlyOne(
      spans.filter((span) => span.name === 'POST /v1/jobs/batch'),
      'one batch request span',
    );
    const enqueues = ids.map((id) =>
      onlyOne(
        spans.filter((span) => span.name === 'send llm-jobs' && span.attributes['llmq.job.id'] === id),
        `the enqueue of ${id}`,
      ),
    );
    expect(new Set(enqueues.map((span) => span.traceId)).size).toBe(2);
    for (const enqueue of enqueues) {
      expect(enqueue.traceId).not.toBe(request.traceId);
      expect(enqueue.links).toEqual([{ traceId: request.traceId, spanId: request.spanId }]);
      const ofJob = spans.filter((span) => span.attributes['llmq.job.id'] === enqueue.attributes['llmq.job.id']);
      expect(new Set(ofJob.map((span) => span.traceId))).toEqual(new Set([enqueue.traceId]));
    }
  });
});

describe('without an OTLP endpoint', () => {
  let quiet: Stack;
  beforeAll(async () => {
    quiet = await startLlmqStack({});
  }, 60_000);
  afterAll(async () => {
    await quiet?.stop();
  });

  it('starts no SDK: the jobs run, and nothing carries a trace context', async () => {
    const quietClient = llmqClient(quiet);
    const { body } = await quietClient.submit({
      type: 'chat',
      request: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'untraced' }] },
    });
    const id = String(body.id);
    expect((await quietClient.waitForEnd(id)).status).toBe('succeeded');
    const connection = createRedisConnection(quiet.redisUrl, { maxRetriesPerRequest: null });
    const queue = new Queue<LlmJobData>(LLM_QUEUE_NAME, { connection, prefix: QUEUE_PREFIX });
    try {
      const entry = await queue.getJob(id);
      expect(entry?.data.jobId).toBe(id);
      expect(entry?.data).not.toHaveProperty('traceparent');
    } finally {
      await queue.close();
      await connection.quit();
    }
  });
});
