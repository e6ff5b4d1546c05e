import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from './__fixtures__/running-simulator.js';
import type { SimulatorStats } from './stats.js';

let running: RunningSimulator;
beforeAll(async () => {
  running = await startSimulator();
});
afterEach(() => running.simulator.reset());
afterAll(() => running.close());

const request = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Hello' }] };

function chat(client: OpenAI = running.client): Promise<unknown> {
  return client.chat.completions.create(request).catch((caught: unknown) => caught);
}

describe('fault injection through the control API', () => {
  it('"429" answers a rate-limit error whose headers the SDK error exposes', async () => {
    const set = await running.control('POST', '/_sim/faults', [
      { match: { path: '/v1/chat/completions', model: 'gpt-4o-mini' }, fault: '429', count: 1, retry_after_ms: 1500 },
    ]);
    expect(set.status).toBe(200);
    const error = await chat();
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    const rateLimit = error as InstanceType<typeof OpenAI.RateLimitError>;
    expect(rateLimit.status).toBe(429);
    expect(rateLimit.code).toBe('rate_limit_exceeded');
    expect(rateLimit.type).toBe('requests');
    expect(rateLimit.headers.get('retry-after-ms')).toBe('1500');
    expect(rateLimit.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(rateLimit.headers.get('x-ratelimit-reset-requests')).toBe('1.5s');
    for (const name of ['limit-requests', 'limit-tokens', 'remaining-tokens', 'reset-tokens']) {
      expect(rateLimit.headers.get(`x-ratelimit-${name}`)).not.toBeNull();
    }
    // count: 1 -> the next request is served.
    expect(await chat()).toHaveProperty('choices');
  });

  it('"429" with retry_after_s sends retry-after in seconds', async () => {
    running.simulator.setFaults([{ fault: '429', retry_after_s: 3 }]);
    const error = (await chat()) as InstanceType<typeof OpenAI.RateLimitError>;
    expect(error.headers.get('retry-after')).toBe('3');
    expect(error.headers.get('retry-after-ms')).toBeNull();
  });

  it('"insufficient_quota" is a 429 with the quota code', async () => {
    running.simulator.setFaults([{ fault: 'insufficient_quota' }]);
    const error = (await chat()) as InstanceType<typeof OpenAI.RateLimitError>;
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect(error.code).toBe('insufficient_quota');
    expect(error.type).toBe('insufficient_quota');
  });

  it('"500" and "503" are InternalServerErrors', async () => {
    running.simulator.setFaults([
      { fault: '500', count: 1 },
      { fault: '503', count: 1 },
    ]);
    const first = (await chat()) as InstanceType<typeof OpenAI.InternalServerError>;
    expect(first).toBeInstanceOf(OpenAI.InternalServerError);
    expect(first.status).toBe(500);
    expect(first.type).toBe('server_error');
    const second = (await chat()) as InstanceType<typeof OpenAI.InternalServerError>;
    expect(second.status).toBe(503);
    expect(await chat()).toHaveProperty('choices');
  });

  it('"reset" drops the connection: APIConnectionError', async () => {
    running.simulator.setFaults([{ fault: 'reset', count: 1 }]);
    const error = await chat();
    expect(error).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(error).not.toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    expect(await chat()).toHaveProperty('choices');
  });

  it('"hang" never answers; the hung request is released when the client gives up', async () => {
    running.simulator.setFaults([{ fault: 'hang', match: { model: 'gpt-4o*' } }]);
    const pending = chat(running.clientWith({ timeout: 300 }));
    await expect.poll(() => running.simulator.stats().hanging).toBe(1);
    expect(await pending).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    await expect.poll(() => running.simulator.stats().hanging).toBe(0);
    await expect.poll(() => running.simulator.stats().inFlight.current).toBe(0);
  });

  it('"timeout_then_ok" answers after delay_ms: the first attempt times out, the retry succeeds', async () => {
    running.simulator.setFaults([{ fault: 'timeout_then_ok', count: 1, delay_ms: 600 }]);
    expect(await chat(running.clientWith({ timeout: 200 }))).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    expect(await chat()).toHaveProperty('choices');
    const stats = running.simulator.stats();
    expect(stats.requests.byStatus['200']).toBe(2);
    expect(stats.faults.byKind.timeout_then_ok).toBe(1);
  });

  it('"hold" parks requests until the rules change, then answers them', async () => {
    running.simulator.setFaults([{ fault: 'hold', count: 2 }]);
    const pending = Promise.all([chat(), chat()]);
    await expect.poll(() => running.simulator.stats().held).toBe(2);
    expect(await chat()).toHaveProperty('choices'); // count used up: the third is not held
    await running.control('DELETE', '/_sim/faults');
    for (const result of await pending) expect(result).toHaveProperty('choices');
    expect(running.simulator.stats().held).toBe(0);
  });

  it('probability 0 never fires; model mismatch never fires; stats count injected faults', async () => {
    running.simulator.setFaults([
      { fault: '500', probability: 0 },
      { fault: '500', match: { model: 'another-model' } },
    ]);
    expect(await chat()).toHaveProperty('choices');
    running.simulator.setFaults([{ fault: '500', count: 2 }]);
    await chat();
    await chat();
    await chat();
    const stats = (await running.control('GET', '/_sim/stats')).body as SimulatorStats;
    expect(stats.faults).toEqual({ injected: 2, byKind: { '500': 2 } });
    expect(stats.requests.byStatus).toEqual({ '500': 2, '200': 2 });
    const faults = await running.control('GET', '/_sim/faults');
    expect(faults.body).toEqual({ rules: [{ fault: '500', count: 2, remaining: 0, injected: 2 }] });
  });

  it('"contains" fires only on requests whose body holds the marker', async () => {
    running.simulator.setFaults([{ fault: '500', match: { contains: 'FAIL-MARKER' } }]);
    expect(await chat()).toHaveProperty('choices');
    const marked = await running.client.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Please FAIL-MARKER now' }] })
      .catch((caught: unknown) => caught);
    expect(marked).toBeInstanceOf(OpenAI.InternalServerError);
  });

  it('DELETE clears the rules; a malformed rule is a 400 that changes nothing', async () => {
    running.simulator.setFaults([{ fault: '500' }]);
    const bad = await running.control('POST', '/_sim/faults', [{ fault: '418' }]);
    expect(bad.status).toBe(400);
    expect(running.simulator.faults()).toHaveLength(1);
    const cleared = await running.control('DELETE', '/_sim/faults');
    expect(cleared.body).toEqual({ rules: [] });
    expect(await chat()).toHaveProperty('choices');
  });
});
