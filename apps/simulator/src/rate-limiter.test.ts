import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from './__fixtures__/running-simulator.js';
import { simulatedChatReply } from './openai-chat-request.js';
import { RateLimiter } from './rate-limiter.js';

let running: RunningSimulator | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

const request = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Count me' }] };

async function sendMany(client: OpenAI, count: number, model = request.model): Promise<unknown[]> {
  return Promise.all(
    Array.from({ length: count }, () =>
      client.chat.completions.create({ ...request, model }).catch((caught: unknown) => caught),
    ),
  );
}

describe('sliding-window rate limits through the SDK', () => {
  it('rpm 5, seven requests: exactly five succeed, two get 429, and the window maximum is 5', async () => {
    running = await startSimulator({ limits: { 'gpt-4o-mini': { rpm: 5 } } });
    const results = await sendMany(running.client, 7);
    const refused = results.filter((result) => result instanceof OpenAI.RateLimitError);
    expect(results.length - refused.length).toBe(5);
    expect(refused).toHaveLength(2);

    const error = refused[0] as InstanceType<typeof OpenAI.RateLimitError>;
    expect(error.code).toBe('rate_limit_exceeded');
    expect(error.type).toBe('requests');
    expect(error.headers.get('x-ratelimit-limit-requests')).toBe('5');
    expect(error.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    const retryAfterMs = Number(error.headers.get('retry-after-ms'));
    expect(retryAfterMs).toBeGreaterThan(59_000);
    expect(retryAfterMs).toBeLessThanOrEqual(60_000);

    const stats = running.simulator.stats();
    expect(stats.windows['gpt-4o-mini']?.maxRequests).toBe(5);
    expect(stats.windows['gpt-4o-mini']?.maxOfferedRequests).toBe(7);
    expect(stats.requests.rateLimited).toBe(2);
    expect(stats.requests.byStatus).toEqual({ '200': 5, '429': 2 });
  });

  it('sends x-ratelimit-* headers on successes, remaining counting down', async () => {
    running = await startSimulator({ limits: { '*': { rpm: 100, tpm: 100_000 } } });
    const first = await running.client.chat.completions.create(request).withResponse();
    const second = await running.client.chat.completions.create(request).withResponse();
    const tokens = simulatedChatReply(request);
    const cost = tokens.promptTokens + tokens.completionTokens;
    expect(first.response.headers.get('x-ratelimit-limit-requests')).toBe('100');
    expect(first.response.headers.get('x-ratelimit-remaining-requests')).toBe('99');
    expect(second.response.headers.get('x-ratelimit-remaining-requests')).toBe('98');
    expect(second.response.headers.get('x-ratelimit-remaining-tokens')).toBe(String(100_000 - 2 * cost));
    expect(second.response.headers.get('x-ratelimit-reset-requests')).toMatch(/^(59\.\d+s|1m0s|60s)$/);
  });

  it('tpm counts prompt plus actual completion tokens; a request too large is refused outright', async () => {
    const { promptTokens, completionTokens } = simulatedChatReply(request);
    const cost = promptTokens + completionTokens;
    running = await startSimulator({ limits: { 'gpt-4o-mini': { tpm: cost * 2 } } });
    const results = await sendMany(running.client, 3);
    expect(results.filter((result) => result instanceof OpenAI.RateLimitError)).toHaveLength(1);
    expect(running.simulator.stats().windows['gpt-4o-mini']?.maxTokens).toBe(cost * 2);

    running.simulator.configure({ limits: { 'gpt-4o-mini': { tpm: cost - 1 } } });
    running.simulator.reset();
    const tooLarge = (await sendMany(running.client, 1))[0] as InstanceType<typeof OpenAI.RateLimitError>;
    expect(tooLarge.type).toBe('tokens');
    expect(tooLarge.message).toContain('Request too large');
    expect(tooLarge.headers.get('retry-after-ms')).toBeNull();
  });

  it('"*" is one window shared by all models; other models keep their own', async () => {
    running = await startSimulator({ limits: { '*': { rpm: 4 }, 'model-a': { rpm: 2 } } });
    const first = await sendMany(running.client, 3, 'model-a');
    expect(first.filter((result) => result instanceof OpenAI.RateLimitError)).toHaveLength(1);
    const second = await sendMany(running.client, 3, 'model-b');
    expect(second.filter((result) => result instanceof OpenAI.RateLimitError)).toHaveLength(1);
    const windows = running.simulator.stats().windows;
    expect(windows['*']?.maxRequests).toBe(4);
    expect(windows['model-a']?.maxRequests).toBe(2);
    expect(windows['model-b']?.maxRequests).toBe(2);
  });

  it('PUT /_sim/config changes limits at run time', async () => {
    running = await startSimulator();
    const updated = await running.control('PUT', '/_sim/config', { limits: { 'gpt-4o-mini': { rpm: 1 } } });
    expect(updated.body).toMatchObject({ limits: { 'gpt-4o-mini': { rpm: 1 } }, apiKeyCount: null });
    const results = await sendMany(running.client, 2);
    expect(results.filter((result) => result instanceof OpenAI.RateLimitError)).toHaveLength(1);
    await running.control('PUT', '/_sim/config', { limits: null });
    expect(await sendMany(running.client, 1)).not.toContainEqual(expect.any(OpenAI.RateLimitError));
    expect((await running.control('PUT', '/_sim/config', { latencyMs: -1 })).status).toBe(400);
  });
});

describe('RateLimiter with an injected clock', () => {
  it('admits again exactly when the oldest request leaves the window', () => {
    const limiter = new RateLimiter({ m: { rpm: 2 } }, 1000);
    expect(limiter.admit('m', 1, 0).admitted).toBe(true);
    expect(limiter.admit('m', 1, 400).admitted).toBe(true);
    const refused = limiter.admit('m', 1, 999);
    expect(refused.admitted).toBe(false);
    if (!refused.admitted) expect(refused.failure.retryAfterMs).toBe(1);
    expect(limiter.admit('m', 1, 1000).admitted).toBe(true);
    expect(limiter.admit('m', 1, 1399).admitted).toBe(false);
    expect(limiter.admit('m', 1, 1400).admitted).toBe(true);
    expect(limiter.statistics(1400).m).toMatchObject({ maxRequests: 2, maxOfferedRequests: 4 });
  });

  it('charges an org window on top of the model window and "*", naming the org when it is full', () => {
    const limiter = new RateLimiter({ '*': { rpm: 10 } }, 1000, { 'org-a': { rpm: 2 } });
    expect(limiter.admit('m', 1, 0, 'org-a').admitted).toBe(true);
    expect(limiter.admit('n', 1, 1, 'org-a').admitted).toBe(true);
    const refused = limiter.admit('m', 1, 2, 'org-a');
    expect(refused.admitted).toBe(false);
    if (!refused.admitted) expect(refused.failure).toMatchObject({ organization: 'org-a', limit: 2, used: 2 });
    expect(limiter.admit('m', 1, 3, 'org-b').admitted).toBe(true);
    expect(limiter.admit('m', 1, 4).admitted).toBe(true);
    const windows = limiter.statistics(4);
    expect(windows['org:org-a']).toMatchObject({ maxRequests: 2, maxOfferedRequests: 3 });
    expect(windows['org:org-b']).toMatchObject({ maxRequests: 1 });
    expect(windows['*']).toMatchObject({ maxRequests: 4 });
  });
});
