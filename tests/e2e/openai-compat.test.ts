import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startLlmqStack, type Stack } from '@llmq/devkit';
import { checkedOpenAi } from '../support/checked-openai.js';
import { createRedisConnection } from '@llmq/core';
import { allKeys } from '../support/redis-keys.js';

/** The burst model's rpm, enforced by llmq's limiter and by the simulator alike. */
const BURST_RPM = 10;

let stack: Stack;
let client: OpenAI;
/** Answers the OpenAPI document does not describe, of every SDK client below. */
const problems: string[] = [];

beforeAll(async () => {
  stack = await startLlmqStack({
    workers: 1,
    simulatorEnv: { SIM_CHUNK_DELAY_MS: '40' },
    // A tenant may make 20 requests a second: enough for every test here but the one that floods.
    apiEnv: { LLMQ_API_RATE_LIMIT: '20' },
    config: [
      'providers:',
      '  local: { type: openai-compatible, base_url: "{simulator}/v1" }',
      'limits:',
      `  openai/gpt-4o-burst: { rpm: ${BURST_RPM} }`,
      'aliases:',
      '  fast: [openai/gpt-4o-mini, anthropic/claude-haiku-4-5]',
      '',
    ].join('\n'),
  });
  client = checkedOpenAi(stack, 'alpha', problems).client;
}, 60_000);
afterAll(async () => {
  await stack?.stop();
});
afterEach(() => {
  expect(problems.splice(0)).toEqual([]);
});

const MODELS = ['openai/gpt-4o-mini', 'anthropic/claude-haiku-4-5', 'google/gemini-2.5-flash', 'local/llama-3.1-8b'];
const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
  { role: 'system', content: 'Answer briefly.' },
  { role: 'user', content: 'Name a queue.' },
];

interface JobObject {
  id: string;
  status: string;
  model: string;
  answered_by: string | null;
  metadata: Record<string, string>;
  result: { choices: Array<{ message: { content: string | null } }> } | null;
  error: { type: string } | null;
}

async function readJob(id: string, wait = 0): Promise<JobObject> {
  const response = await fetch(`${stack.apiUrl}/v1/jobs/${id}?wait=${wait}`, {
    headers: { authorization: `Bearer ${stack.keys.alpha}` },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as JobObject;
}

async function simulator(method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${stack.simulatorUrl}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  expect(response.ok).toBe(true);
  return response.json();
}

describe('chat.completions.create through the openai SDK', () => {
  it.each(MODELS)('answers %s with a ChatCompletion and names its job in llmq-job-id', async (model) => {
    const { data: completion, response } = await client.chat.completions
      .create({ model, messages, max_tokens: 30 })
      .withResponse();
    expect(completion.object).toBe('chat.completion');
    expect(completion.model).toBe(model);
    const content = completion.choices[0]?.message.content ?? '';
    expect(content.length).toBeGreaterThan(0);
    expect(completion.usage?.completion_tokens).toBeGreaterThan(0);
    const jobId = response.headers.get('llmq-job-id') ?? '';
    const job = await readJob(jobId);
    expect(job).toMatchObject({ id: jobId, status: 'succeeded', model });
    expect(job.result?.choices[0]?.message.content).toBe(content);
  });

  it.each(MODELS)('streams %s as chat.completion.chunk frames ending with finish_reason and usage', async (model) => {
    const { data: stream, response } = await client.chat.completions
      .create({ model, messages, max_tokens: 30, stream: true, stream_options: { include_usage: true } })
      .withResponse();
    const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const text = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
    const jobId = response.headers.get('llmq-job-id') ?? '';
    const job = await readJob(jobId);
    expect(job.status).toBe('succeeded');
    expect(text).toBe(job.result?.choices[0]?.message.content);
    expect(chunks.every((chunk) => chunk.object === 'chat.completion.chunk' && chunk.model === model)).toBe(true);
    const finishes = chunks.filter((chunk) => chunk.choices[0]?.finish_reason);
    expect(finishes).toHaveLength(1);
    const last = chunks[chunks.length - 1];
    expect(last?.choices).toEqual([]);
    expect(last?.usage?.completion_tokens).toBeGreaterThan(0);
    // Text came in more than one piece: the job's partial output, not only its end.
    expect(chunks.filter((chunk) => chunk.choices[0]?.delta.content).length).toBeGreaterThan(1);
  });

  it('ends a stream without a usage chunk when include_usage is not set', async () => {
    const stream = await client.chat.completions.create({ model: 'fast', messages, max_tokens: 10, stream: true });
    const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.some((chunk) => chunk.usage)).toBe(false);
    expect(chunks[chunks.length - 1]?.choices[0]?.finish_reason).toBeTruthy();
  });

  it("raises a job that fails mid-stream as the SDK's APIError, with llmq's error type", async () => {
    await simulator('POST', '/_sim/faults', [{ match: { model: 'gpt-4o-broken' }, fault: '500' }]);
    try {
      // llmq's own field, as extra_body sends it.
      const body = { model: 'openai/gpt-4o-broken', messages, stream: true as const, llmq: { attempts: 1 } };
      // Not the checking client: its copy of the answer keeps an aborted stream from settling.
      const plain = new OpenAI({ baseURL: `${stack.apiUrl}/v1`, apiKey: stack.keys.alpha ?? '', maxRetries: 0 });
      const stream = await plain.chat.completions.create(body);
      const error = await (async () => {
        for await (const _chunk of stream);
      })().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(OpenAI.APIError);
      expect(error).toMatchObject({ type: 'server_error', code: 'provider_error' });
    } finally {
      await simulator('DELETE', '/_sim/faults');
    }
  });

  it('carries llmq job options in the body llmq field (extra_body): metadata shows on the job, a fallback answers', async () => {
    await simulator('POST', '/_sim/faults', [{ match: { model: 'gpt-4o-dead' }, fault: '500' }]);
    try {
      const { data: completion, response } = await client.chat.completions
        .create({
          model: 'openai/gpt-4o-dead',
          messages,
          max_tokens: 10,
          // @ts-expect-error llmq's own field, as the SDKs' extra_body sends it
          llmq: { fallbacks: ['anthropic/claude-haiku-4-5'], attempts: 1, metadata: { doc: '42' } },
        })
        .withResponse();
      expect(completion.choices[0]?.message.content).toBeTruthy();
      const job = await readJob(response.headers.get('llmq-job-id') ?? '');
      expect(job).toMatchObject({
        model: 'openai/gpt-4o-dead',
        answered_by: 'anthropic/claude-haiku-4-5',
        metadata: { doc: '42' },
      });
    } finally {
      await simulator('DELETE', '/_sim/faults');
    }
  });
});

describe('embeddings.create through the openai SDK', () => {
  it('answers floats, and the SDK default (base64) decodes to the same float32 vectors', async () => {
    const input = ['a queue', 'a bucket'];
    const floats = await client.embeddings.create({
      model: 'openai/text-embedding-3-small',
      input,
      encoding_format: 'float',
    });
    const byDefault = await client.embeddings.create({ model: 'openai/text-embedding-3-small', input });
    expect(floats.data).toHaveLength(2);
    expect(byDefault.data).toHaveLength(2);
    for (const [index, item] of floats.data.entries()) {
      expect(item.embedding.length).toBeGreaterThan(0);
      expect(byDefault.data[index]?.embedding).toEqual(item.embedding.map((value) => Math.fround(value)));
    }
  });

  it('honours dimensions, and hands base64 over as float32 little-endian when asked for it', async () => {
    const { data: answer, response } = await client.embeddings
      .create({ model: 'openai/text-embedding-3-small', input: 'a queue', dimensions: 24, encoding_format: 'base64' })
      .withResponse();
    const encoded = answer.data[0]?.embedding as unknown as string;
    expect(typeof encoded).toBe('string');
    const bytes = Buffer.from(encoded, 'base64');
    const vector = Array.from({ length: bytes.length / 4 }, (_, index) => bytes.readFloatLE(index * 4));
    expect(vector).toHaveLength(24);
    const job = (await readJob(response.headers.get('llmq-job-id') ?? '')) as unknown as {
      result: { data: Array<{ embedding: number[] }> };
    };
    expect(vector).toEqual(job.result.data[0]?.embedding.map((value) => Math.fround(value)));
  });
});

describe('models through the openai SDK', () => {
  it('lists the aliases and the models the config names', async () => {
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toEqual(
      expect.arrayContaining(['fast', 'openai/gpt-4o-mini', 'anthropic/claude-haiku-4-5', 'openai/gpt-4o-burst']),
    );
  });

  it('retrieves a provider/model id and an alias; an unknown provider is a NotFoundError', async () => {
    await expect(client.models.retrieve('openai/gpt-4o-mini')).resolves.toMatchObject({
      id: 'openai/gpt-4o-mini',
      object: 'model',
      owned_by: 'openai',
    });
    await expect(client.models.retrieve('fast')).resolves.toMatchObject({ id: 'fast', owned_by: 'llmq' });
    await expect(client.models.retrieve('nowhere/model')).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('retrieves a provider/model id sent with its slash as is, as clients other than the Node SDK do', async () => {
    const response = await fetch(`${stack.apiUrl}/v1/models/openai/gpt-4o-mini`, {
      headers: { authorization: `Bearer ${stack.keys.alpha}` },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      id: 'openai/gpt-4o-mini',
      object: 'model',
      created: 0,
      owned_by: 'openai',
    });
  });
});

describe("errors as the openai SDK's own exceptions", () => {
  it('a bad request is a BadRequestError naming the field', async () => {
    const error = await client.chat.completions
      .create({ model: 'openai/gpt-4o-mini', messages, temperature: 5 })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error).toMatchObject({ status: 400, param: 'temperature', type: 'invalid_request_error' });
  });

  it('an unknown llmq option is a BadRequestError naming it', async () => {
    const error = await client.chat.completions
      // @ts-expect-error llmq's own field
      .create({ model: 'openai/gpt-4o-mini', messages, llmq: { urgency: 1 } })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error).toMatchObject({ param: 'llmq.urgency' });
  });

  it('a bad key is an AuthenticationError', async () => {
    const stranger = new OpenAI({ baseURL: `${stack.apiUrl}/v1`, apiKey: 'not-a-key', maxRetries: 0 });
    const error = await stranger.chat.completions
      .create({ model: 'openai/gpt-4o-mini', messages })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(error).toMatchObject({ status: 401, type: 'authentication_error' });
  });

  it('an unknown model is a NotFoundError', async () => {
    const error = await client.embeddings
      .create({ model: 'nowhere/embedder', input: 'x' })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect(error).toMatchObject({ status: 404, code: 'model_not_found', param: 'model' });
  });

  it("a provider failing every attempt is an InternalServerError carrying llmq's error type, not retried by the SDK", async () => {
    await simulator('POST', '/_sim/faults', [{ match: { model: 'gpt-4o-failing' }, fault: '500' }]);
    try {
      const retrying = new OpenAI({ baseURL: `${stack.apiUrl}/v1`, apiKey: stack.keys.alpha ?? '', maxRetries: 2 });
      const error = await retrying.chat.completions
        // @ts-expect-error llmq's own field
        .create({ model: 'openai/gpt-4o-failing', messages, llmq: { attempts: 2, metadata: { case: 'dead' } } })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(OpenAI.InternalServerError);
      const jobId = (error as InstanceType<typeof OpenAI.APIError>).headers?.get('llmq-job-id') ?? '';
      const job = await readJob(jobId);
      expect(job.status).toBe('failed');
      expect(error).toMatchObject({ status: 502, code: job.error?.type });
      // One job, not three: llmq's attempts are the retries.
      const list = (await (
        await fetch(`${stack.apiUrl}/v1/jobs?limit=100`, { headers: { authorization: `Bearer ${stack.keys.alpha}` } })
      ).json()) as { data: JobObject[] };
      expect(list.data.filter((item) => item.metadata.case === 'dead')).toHaveLength(1);
    } finally {
      await simulator('DELETE', '/_sim/faults');
    }
  });

  it('a tenant over its request rate gets RateLimitErrors with retry-after', async () => {
    const beta = checkedOpenAi(stack, 'beta', problems).client;
    const outcomes = await Promise.all(
      Array.from({ length: 60 }, () => beta.models.retrieve('fast').catch((caught: unknown) => caught)),
    );
    const limited = outcomes.filter((outcome) => outcome instanceof OpenAI.RateLimitError);
    expect(limited.length).toBeGreaterThan(0);
    for (const error of limited) {
      expect(Number(error.headers?.get('retry-after'))).toBeGreaterThan(0);
      expect(error.type).toBe('rate_limit_error');
    }
  });
});

describe('the job behind the answer', () => {
  it('keeps running when the client leaves, and is read at /v1/jobs/{id}', async () => {
    await simulator('POST', '/_sim/faults', [{ match: { model: 'gpt-4o-held' }, fault: 'hold' }]);
    const abort = new AbortController();
    const call = client.chat.completions
      .create(
        // @ts-expect-error llmq's own field
        { model: 'openai/gpt-4o-held', messages, llmq: { metadata: { case: 'left' } } },
        { signal: abort.signal },
      )
      .catch((caught: unknown) => caught);
    for (let waited = 0; waited < 200; waited++) {
      const stats = (await simulator('GET', '/_sim/stats')) as { inFlight: { current: number } };
      if (stats.inFlight.current > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    abort.abort();
    expect(await call).toBeInstanceOf(OpenAI.APIUserAbortError);
    await simulator('DELETE', '/_sim/faults');
    const list = (await (
      await fetch(`${stack.apiUrl}/v1/jobs?limit=100`, { headers: { authorization: `Bearer ${stack.keys.alpha}` } })
    ).json()) as { data: JobObject[] };
    const left = list.data.find((item) => item.metadata.case === 'left');
    expect((await readJob(left?.id ?? '', 30)).status).toBe('succeeded');
  });
});

describe('a record that disappears while its caller waits', () => {
  it('is a NotFoundError naming the job, not an answer that never comes', async () => {
    await simulator('POST', '/_sim/faults', [{ match: { model: 'gpt-4o-gone' }, fault: 'hold' }]);
    const redis = createRedisConnection(stack.redisUrl);
    try {
      const call = client.chat.completions
        .create(
          // @ts-expect-error llmq's own field
          { model: 'openai/gpt-4o-gone', messages, llmq: { metadata: { case: 'gone' } } },
        )
        .catch((caught: unknown) => caught);
      // The provider holds the call (the job is running); meanwhile the job's record is lost.
      const running = async () => {
        for (const key of await allKeys(redis, 'llmq:{t:alpha}:job:*')) {
          if ((await redis.type(key)) !== 'hash') continue;
          const [model, status] = await redis.hmget(key, 'model', 'status');
          if (model === 'openai/gpt-4o-gone' && status === 'running') return key;
        }
        return undefined;
      };
      await expect.poll(running, { timeout: 20_000 }).toBeDefined();
      await redis.del((await running()) ?? '');
      const caught = await call;
      expect(caught).toBeInstanceOf(OpenAI.NotFoundError);
      expect((caught as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('job_not_found');
    } finally {
      await simulator('DELETE', '/_sim/faults');
      redis.disconnect();
    }
  });
});

describe("a burst over a model's rpm limit", () => {
  it('all succeeds through the SDK while the provider, enforcing the same limit, answers no 429', async () => {
    await simulator('POST', '/_sim/reset');
    await simulator('PUT', '/_sim/config', { limits: { 'gpt-4o-burst': { rpm: BURST_RPM } } });
    const answers = await Promise.all(
      Array.from({ length: BURST_RPM + 1 }, (_, index) =>
        client.chat.completions.create({
          model: 'openai/gpt-4o-burst',
          messages: [{ role: 'user', content: `Burst ${index}` }],
          max_tokens: 5,
        }),
      ),
    );
    expect(answers.every((answer) => answer.choices[0]?.message.content)).toBe(true);
    const stats = (await simulator('GET', '/_sim/stats')) as {
      requests: { byModel: Record<string, number>; rateLimited: number };
    };
    expect(stats.requests.rateLimited).toBe(0);
    expect(stats.requests.byModel['gpt-4o-burst']).toBe(BURST_RPM + 1);
  }, 150_000);
});
