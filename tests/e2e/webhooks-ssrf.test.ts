import { lookup } from 'node:dns/promises';
import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forbiddenAddressReason } from '@llmq/core';
import { startLlmqStack, type Stack } from '@llmq/devkit';
import { startCanary, type CanaryListener } from '../../packages/core/src/webhooks/__fixtures__/canary-listener.js';
import { ssrfCorpus, type SsrfTarget } from '../../packages/core/src/webhooks/__fixtures__/ssrf-corpus.js';
import {
  startWebhookReceiver,
  type WebhookReceiver,
} from '../../packages/core/src/webhooks/__fixtures__/webhook-receiver.js';
import { apiClient, WEBHOOK_STACK_CONFIG } from './webhooks-support.js';

let stack: Stack;
let api: ReturnType<typeof apiClient>;
let canary: CanaryListener;
let canary6: CanaryListener;
let receiver: WebhookReceiver;
let corpus: SsrfTarget[];

/** Names this machine resolves (hosts file, no DNS needed) to an address llmq refuses. */
async function privatelyResolvedNames(): Promise<string[]> {
  const names: string[] = [];
  for (const name of [hostname(), 'ip6-localhost', 'ip6-loopback', 'localhost.localdomain']) {
    const addresses = await lookup(name, { all: true }).catch(() => []);
    if (addresses.length > 0 && addresses.every(({ address }) => forbiddenAddressReason(address) !== null)) {
      names.push(name);
    }
  }
  return names;
}

beforeAll(async () => {
  [stack, canary, canary6, receiver] = await Promise.all([
    startLlmqStack({ config: WEBHOOK_STACK_CONFIG }),
    startCanary('127.0.0.1'),
    startCanary('::1'),
    startWebhookReceiver({ host: '127.0.0.2' }),
  ]);
  api = apiClient(stack);
  corpus = ssrfCorpus({ port: canary.port, port6: canary6.port, privateNames: await privatelyResolvedNames() });
}, 60_000);

afterAll(async () => {
  await Promise.all([stack?.stop(), canary?.close(), canary6?.close(), receiver?.close()]);
});

describe('webhook SSRF guard, end to end', () => {
  it('refuses every target of the corpus, at submit or at send, and no canary sees a connection', async () => {
    expect(corpus.length).toBeGreaterThanOrEqual(30);
    expect(corpus.some((target) => target.refusedAt === 'send')).toBe(true);
    const callsBefore = await api.simulatorCalls();
    const outcomes = await Promise.all(
      corpus.map(async (target) => {
        const accepted = await api.submit(target.url);
        if (target.refusedAt === 'submit') {
          return { target, status: accepted.status, message: (accepted.body.error as { message?: string }).message };
        }
        const job = await api.settled(String(accepted.body.id));
        return { target, status: accepted.status, message: job.webhook?.deliveries[0]?.error, webhook: job.webhook };
      }),
    );
    for (const outcome of outcomes) {
      const name = `${outcome.target.name}: ${outcome.target.url}`;
      if (outcome.target.refusedAt === 'submit') {
        expect(outcome.status, name).toBe(400);
        expect(outcome.message, name).toMatch(/^webhook\.url: /);
      } else {
        expect(outcome.status, name).toBe(202);
        expect(outcome.webhook?.status, name).toBe('failed');
        expect(outcome.webhook?.deliveries, name).toHaveLength(1);
        expect(outcome.message, name).toMatch(/^refused: ".+" resolves to /);
      }
    }
    expect(canary.connections() + canary6.connections()).toBe(0);
    // Jobs refused at send still ran their LLM call once, and only once.
    const sendRefusals = corpus.filter((target) => target.refusedAt === 'send').length;
    expect((await api.simulatorCalls()) - callsBefore).toBe(sendRefusals);
  });

  it('does not follow a receiver’s redirect to the metadata address or a canary', async () => {
    const targets = ['http://169.254.169.254/latest/meta-data/', `http://127.0.0.1:${canary.port}/`];
    receiver.handle((request, response) => {
      const index = Number(request.path.slice(1));
      response.writeHead(302, { location: targets[index % 2] ?? '' }).end();
    });
    const jobs = await Promise.all(
      [0, 1].map(async (index) => api.settled(String((await api.submit(`${receiver.url}/${index}`)).body.id))),
    );
    for (const job of jobs) {
      expect(job.webhook?.status).toBe('failed');
      expect(job.webhook?.deliveries.every((delivery) => delivery.status_code === 302)).toBe(true);
    }
    expect(canary.connections()).toBe(0);
  });

  it('delivers to an allowlisted address', async () => {
    receiver.handle((_request, response) => response.writeHead(200).end());
    const job = await api.settled(String((await api.submit(`${receiver.url}/allowed`)).body.id));
    expect(job.webhook?.status).toBe('delivered');
  });

  it('has canaries that would notice a connection', async () => {
    await fetch(`http://127.0.0.1:${canary.port}/`).catch(() => undefined);
    await fetch(`http://[::1]:${canary6.port}/`).catch(() => undefined);
    expect(canary.connections()).toBe(1);
    expect(canary6.connections()).toBe(1);
  });
});
