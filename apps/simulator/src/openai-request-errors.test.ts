import OpenAI from 'openai';
import type { ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator, TEST_API_KEY } from './__fixtures__/running-simulator.js';

let running: RunningSimulator;
beforeAll(async () => {
  running = await startSimulator();
});
afterAll(() => running.close());

const plainRequest: ChatCompletionCreateParamsNonStreaming = {
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'Hello' }],
};

describe('authentication and validation', () => {
  it('401s without an API key, in OpenAI error shape', async () => {
    const response = await fetch(`${running.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(plainRequest),
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({
      error: { message: expect.any(String), type: 'invalid_request_error', param: null, code: 'invalid_api_key' },
    });
  });

  it('401s on a key outside the configured set, without echoing the key', async () => {
    const strict = await startSimulator({ apiKeys: ['sk-good'] });
    try {
      const error = await strict
        .clientWith({ apiKey: 'sk-wrong-secret-1234' })
        .chat.completions.create(plainRequest)
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
      expect((error as InstanceType<typeof OpenAI.AuthenticationError>).code).toBe('invalid_api_key');
      expect(String((error as Error).message)).not.toContain('wrong-secret');
      const ok = await strict.clientWith({ apiKey: 'sk-good' }).chat.completions.create(plainRequest);
      expect(ok.choices).toHaveLength(1);
    } finally {
      await strict.close();
    }
  });

  it('400s on an empty messages array and on a missing model', async () => {
    const error = await running.client.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('messages');

    const response = await fetch(`${running.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { type: string; message: string } };
    expect(body.error.type).toBe('invalid_request_error');
    expect(body.error.message).toContain('model');

    const badRole = await running.client.chat.completions
      .create({
        model: 'm',
        messages: [{ role: 'robot', content: 'x' } as unknown as OpenAI.ChatCompletionMessageParam],
      })
      .catch((caught: unknown) => caught);
    expect((badRole as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('messages[0].role');
  });

  it('400s on a body that is not JSON and 404s on an unknown path', async () => {
    const response = await fetch(`${running.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' },
      body: '{"model":',
    });
    expect(response.status).toBe(400);
    const missing = await fetch(`${running.url}/v1/nothing-here`, { method: 'POST' });
    expect(missing.status).toBe(404);
  });
});
