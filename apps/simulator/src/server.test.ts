import { afterEach, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from './__fixtures__/running-simulator.js';
import type { RequestLogEntry, SimulatorStats } from './stats.js';

let running: RunningSimulator | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

const request = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Hi' }] };

describe('server', () => {
  it('holds 2,000 concurrent requests open and answers them all', async () => {
    // A "hold" fault parks every request until the rules change, so the test sees all 2,000 open
    // at once however slowly this shared-CPU client sends them; then the 200 ms latency applies.
    const current = await startSimulator({ latencyMs: 200, faults: [{ fault: 'hold' }] });
    running = current;
    const pending = Promise.all(Array.from({ length: 2000 }, () => current.client.chat.completions.create(request)));
    await expect.poll(() => current.simulator.stats().held, { timeout: 10_000 }).toBe(2000);
    expect(current.simulator.stats().inFlight.current).toBe(2000);

    const released = performance.now();
    current.simulator.setFaults([]);
    const results = await pending;
    expect(performance.now() - released).toBeGreaterThanOrEqual(199);
    expect(results.every((result) => result.choices[0]?.finish_reason === 'stop')).toBe(true);
    const stats = current.simulator.stats();
    expect(stats.inFlight.peak).toBe(2000);
    expect(stats.requests.byStatus).toEqual({ '200': 2000 });
    await expect.poll(() => current.simulator.stats().inFlight.current).toBe(0);
  }, 20_000);

  it('answers at once with latencyMs 0, and waits with latency plus jitter', async () => {
    const current = await startSimulator();
    running = current;
    await current.client.chat.completions.create(request); // warm-up: connection and JIT
    let started = performance.now();
    await current.client.chat.completions.create(request);
    expect(performance.now() - started).toBeLessThan(100);

    current.simulator.configure({ latencyMs: 150, jitterMs: 50 });
    started = performance.now();
    await current.client.chat.completions.create(request);
    expect(performance.now() - started).toBeGreaterThanOrEqual(149);
  });

  it('streams with a delay between chunks', async () => {
    const current = await startSimulator({ chunkDelayMs: 20 });
    running = current;
    const started = performance.now();
    const stream = await current.client.chat.completions.create({ ...request, stream: true });
    let chunks = 0;
    for await (const chunk of stream) chunks += chunk.choices.length;
    expect(chunks).toBeGreaterThan(3);
    expect(performance.now() - started).toBeGreaterThanOrEqual(20 * (chunks - 1) - 5);
  });

  it('logs requests, serves them since a time, and resets', async () => {
    const current = await startSimulator();
    running = current;
    const before = Date.now();
    await current.client.chat.completions.create(request);
    await current.client.embeddings.create({ model: 'text-embedding-3-small', input: 'x' });
    const log = await current.control('GET', `/_sim/requests?since=${before}`);
    const entries = (log.body as { data: RequestLogEntry[] }).data;
    expect(entries.map((entry) => [entry.path, entry.model, entry.status])).toEqual([
      ['/v1/chat/completions', 'gpt-4o-mini', 200],
      ['/v1/embeddings', 'text-embedding-3-small', 200],
    ]);
    expect(entries[0]?.promptTokens).toBeGreaterThan(0);
    expect(entries[0]?.completionTokens).toBeGreaterThan(0);
    const future = await current.control('GET', `/_sim/requests?since=${Date.now() + 60_000}`);
    expect((future.body as { data: unknown[] }).data).toEqual([]);

    const stats = (await current.control('GET', '/_sim/stats')).body as SimulatorStats;
    expect(stats.requests.total).toBe(2);
    expect(stats.requests.byPath).toEqual({ '/v1/chat/completions': 1, '/v1/embeddings': 1 });
    expect(stats.tokens.prompt).toBe((entries[0]?.promptTokens ?? 0) + (entries[1]?.promptTokens ?? 0));

    expect((await current.control('POST', '/_sim/reset')).body).toEqual({ ok: true });
    const cleared = current.simulator.stats();
    expect(cleared.requests.total).toBe(0);
    expect(cleared.windows).toEqual({});
    expect(current.simulator.requests()).toEqual([]);
  });

  it('reports and updates its settings without echoing keys', async () => {
    const current = await startSimulator({ apiKeys: ['sk-a', 'sk-b'], latencyMs: 5 });
    running = current;
    expect((await current.control('GET', '/_sim/config')).body).toEqual({
      latencyMs: 5,
      jitterMs: 0,
      chunkDelayMs: 0,
      limits: {},
      apiKeyCount: 2,
      batchProcessingMs: 1000,
      batchExpiryMs: 86_400_000,
      batchEnqueuedTokens: null,
    });
    const updated = await current.control('PUT', '/_sim/config', {
      apiKeys: null,
      chunkDelayMs: 3,
      batchProcessingMs: 0,
      batchExpiryMs: 5000,
      batchEnqueuedTokens: 90_000,
    });
    expect(updated.body).toMatchObject({
      apiKeyCount: null,
      chunkDelayMs: 3,
      latencyMs: 5,
      batchProcessingMs: 0,
      batchExpiryMs: 5000,
      batchEnqueuedTokens: 90_000,
    });
    expect((await current.control('PUT', '/_sim/config', { latency: 5 })).status).toBe(400);
    expect((await current.control('GET', '/_sim/nothing')).status).toBe(404);
  });

  it('close() releases hanging requests', async () => {
    const current = await startSimulator({ faults: [{ fault: 'hang' }] });
    const pending = current.client.chat.completions.create(request).catch((caught: unknown) => caught);
    await expect.poll(() => current.simulator.stats().hanging).toBe(1);
    await current.close();
    expect(await pending).toBeInstanceOf(Error);
  });
});
