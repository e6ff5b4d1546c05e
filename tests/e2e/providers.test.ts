import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLlmqStack, type Stack } from '@llmq/devkit';
import { readEvents } from '../support/sse-client.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startLlmqStack({
    workers: 1,
    simulatorEnv: { SIM_CHUNK_DELAY_MS: '60' },
    config: 'providers:\n  local:\n    type: openai-compatible\n    base_url: "{simulator}/v1"\n',
  });
}, 60_000);
afterAll(async () => {
  await stack?.stop();
});

const headers = () => ({ authorization: `Bearer ${stack.keys.alpha}`, 'content-type': 'application/json' });
const MODELS = ['openai/gpt-4o-mini', 'anthropic/claude-haiku-4-5', 'google/gemini-2.5-flash', 'local/llama-3.1-8b'];

async function submit(body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${stack.apiUrl}/v1/jobs`, {
    method: 'POST',
    headers: headers(),
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

interface ChatJob {
  status: string;
  model: string;
  answered_by: string;
  usage: { input_tokens: number; output_tokens: number };
  result: {
    object: string;
    model: string;
    provider: string;
    choices: Array<{
      index: number;
      message: { role: string; content: string | null; tool_calls?: unknown[] };
      finish_reason: string;
    }>;
    usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  };
}

const shape = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(shape);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .sort(([left], [right]) => left.localeCompare(right))
        .map(([key, item]) => [key, shape(item)]),
    );
  }
  return typeof value;
};

describe('one job body, every provider', () => {
  it('returns the same normalised ChatCompletion shape from OpenAI, Anthropic, Gemini and an OpenAI-compatible server', async () => {
    const jobs = await Promise.all(
      MODELS.map(async (model) => {
        const { status, body } = await submit({
          type: 'chat',
          request: {
            model,
            messages: [
              { role: 'system', content: 'Answer briefly.' },
              { role: 'user', content: 'Name a queue.' },
              { role: 'assistant', content: 'BullMQ.' },
              { role: 'user', content: 'And a bucket?' },
            ],
            max_tokens: 30,
            stop: ['\n\n'],
          },
        });
        expect(status, JSON.stringify(body)).toBe(202);
        const done = (await (
          await fetch(`${stack.apiUrl}/v1/jobs/${String(body.id)}?wait=30`, { headers: headers() })
        ).json()) as ChatJob;
        return done;
      }),
    );
    const shapes = jobs.map((job) => shape(job.result));
    for (const [index, job] of jobs.entries()) {
      expect(job.status, JSON.stringify(job)).toBe('succeeded');
      expect(shapes[index]).toEqual(shapes[0]);
      expect(job.result.object).toBe('chat.completion');
      expect(job.result.model).toBe(MODELS[index]);
      expect(job.answered_by).toBe(MODELS[index]);
      expect(job.result.provider).toBe(MODELS[index]?.split('/')[0]);
      expect(job.result.choices[0]?.message.role).toBe('assistant');
      expect(job.result.choices[0]?.message.content?.length).toBeGreaterThan(0);
      expect(['stop', 'length']).toContain(job.result.choices[0]?.finish_reason);
      expect(job.usage).toEqual({
        input_tokens: job.result.usage.prompt_tokens,
        output_tokens: job.result.usage.completion_tokens,
      });
      expect(job.result.usage.total_tokens).toBe(job.result.usage.prompt_tokens + job.result.usage.completion_tokens);
    }
  }, 60_000);

  it('runs a full tool round trip on every provider', async () => {
    const tools = [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
        },
      },
    ];
    for (const model of MODELS) {
      const first = await submit({
        type: 'chat',
        request: {
          model,
          messages: [{ role: 'user', content: 'What is the weather in Oslo?' }],
          tools,
          tool_choice: 'required',
        },
      });
      const asked = (await (
        await fetch(`${stack.apiUrl}/v1/jobs/${String(first.body.id)}?wait=30`, { headers: headers() })
      ).json()) as ChatJob;
      const call = asked.result.choices[0]?.message.tool_calls?.[0] as
        { id: string; function: { name: string; arguments: string } } | undefined;
      expect(asked.result.choices[0]?.finish_reason, model).toBe('tool_calls');
      expect(call?.function.name).toBe('get_weather');
      expect(typeof JSON.parse(call?.function.arguments ?? 'null')).toBe('object');

      const second = await submit({
        type: 'chat',
        request: {
          model,
          tools,
          messages: [
            { role: 'user', content: 'What is the weather in Oslo?' },
            {
              role: 'assistant',
              content: null,
              tool_calls: [{ id: call?.id, type: 'function', function: call?.function }],
            },
            { role: 'tool', tool_call_id: call?.id, content: '{"temperature_c": 3}' },
          ],
        },
      });
      expect(second.status, JSON.stringify(second.body)).toBe(202);
      const answered = (await (
        await fetch(`${stack.apiUrl}/v1/jobs/${String(second.body.id)}?wait=30`, { headers: headers() })
      ).json()) as ChatJob;
      expect(answered.status, model).toBe('succeeded');
      expect(answered.result.choices[0]?.message.content?.length).toBeGreaterThan(0);
    }
  }, 60_000);

  it('streams partial output from every provider to an SSE client before the job ends', async () => {
    for (const model of MODELS.slice(0, 3)) {
      const { body } = await submit({
        type: 'chat',
        request: {
          model,
          messages: [{ role: 'user', content: 'Tell a long story about a patient queue.' }],
          max_tokens: 60,
        },
      });
      const { events } = await readEvents(`${stack.apiUrl}/v1/jobs/${String(body.id)}/events`, {
        authorization: `Bearer ${stack.keys.alpha}`,
      });
      const deltas = events.filter((event) => event.event === 'delta');
      const last = events[events.length - 1];
      expect(deltas.length, model).toBeGreaterThan(1);
      expect((last?.data as { status: string }).status).toBe('succeeded');
      expect(deltas.every((delta) => delta.at < (last?.at ?? 0))).toBe(true);
    }
  }, 60_000);

  it('refuses at submit what a provider cannot honour, naming the field and the provider', async () => {
    const anthropicSeed = await submit({
      type: 'chat',
      request: { model: 'anthropic/claude-haiku-4-5', messages: [{ role: 'user', content: 'hi' }], seed: 1 },
    });
    expect(anthropicSeed.status).toBe(400);
    expect((anthropicSeed.body.error as { message: string }).message).toContain('request.seed');
    expect((anthropicSeed.body.error as { message: string }).message).toContain('provider "anthropic"');
    const embeddingOnAnthropic = await submit({
      type: 'embedding',
      request: { model: 'anthropic/claude-haiku-4-5', input: 'x' },
    });
    expect(embeddingOnAnthropic.status).toBe(400);
    expect((embeddingOnAnthropic.body.error as { message: string }).message).toBe(
      'request.model: provider "anthropic" does not serve embedding jobs',
    );
  });

  it('embeds with Gemini past one provider batch, in order', async () => {
    const inputs = Array.from({ length: 230 }, (_, index) => `passage ${index}`);
    const { body } = await submit({
      type: 'embedding',
      request: { model: 'google/gemini-embedding-001', input: inputs, dimensions: 8 },
    });
    const job = (await (
      await fetch(`${stack.apiUrl}/v1/jobs/${String(body.id)}?wait=30`, { headers: headers() })
    ).json()) as {
      status: string;
      result: { data: Array<{ index: number; embedding: number[] }> };
    };
    expect(job.status).toBe('succeeded');
    expect(job.result.data.map((item) => item.index)).toEqual(inputs.map((_, index) => index));
    expect(job.result.data.every((item) => item.embedding.length === 8)).toBe(true);
  });
});
