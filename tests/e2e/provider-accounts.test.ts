import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLlmqStack, type Stack } from '@llmq/devkit';
import { llmqClient, type JobView } from '../support/llmq-client.js';
import { PrometheusMetrics } from '../support/prometheus-text.js';

// Each org's limit, in the simulator and in llmq's config alike: two calls a second.
const RPM = 120;

/** The simulator's accounts: keys, the org each belongs to, the org's limit. */
const SIM_ACCOUNTS = [
  { key: 'sk-org-x', org: 'org-x', rpm: RPM },
  { key: 'sk-org-y', org: 'org-y', rpm: RPM },
  { key: 'sk-org-z-1', org: 'org-z', rpm: RPM },
  { key: 'sk-org-z-2', org: 'org-z', rpm: RPM },
  { key: 'sk-live', org: 'org-live' },
  { key: 'sk-sticky-1', org: 'org-s1' },
  { key: 'sk-sticky-2', org: 'org-s2' },
  { key: 'sk-rotate-old', org: 'org-r' },
  { key: 'sk-rotate-new', org: 'org-r' },
];

// Each scenario has models and orgs of its own (an account serves the models its `models` names).
const CONFIG = `
accounts:
  openai:
    - { name: x, org: org-x, api_key_env: KEY_X, models: ["two-orgs"], limits: { "two-orgs": { rpm: ${RPM} } } }
    - { name: y, org: org-y, api_key_env: KEY_Y, models: ["two-orgs"], limits: { "two-orgs": { rpm: ${RPM} } } }
    - { name: z1, org: org-z, api_key_env: KEY_Z1, models: ["one-org"], limits: { "one-org": { rpm: ${RPM} } } }
    - { name: z2, org: org-z, api_key_env: KEY_Z2, models: ["one-org"] }
    - { name: dead, api_key_env: KEY_DEAD, models: ["dead-*"] }
    - { name: live, api_key_env: KEY_LIVE, models: ["dead-*"] }
    - { name: s1, api_key_env: KEY_S1, models: ["sticky"] }
    - { name: s2, api_key_env: KEY_S2, models: ["sticky"] }
    - { name: rotating, api_key_env: KEY_ROTATING, models: ["rotating"] }
`;

const WORKER_ENV = {
  WORKER_CONCURRENCY: '32',
  KEY_X: 'sk-org-x',
  KEY_Y: 'sk-org-y',
  KEY_Z1: 'sk-org-z-1',
  KEY_Z2: 'sk-org-z-2',
  // A key the provider does not know: every call on this account is refused 401.
  KEY_DEAD: 'sk-revoked',
  KEY_LIVE: 'sk-live',
  KEY_S1: 'sk-sticky-1',
  KEY_S2: 'sk-sticky-2',
  KEY_ROTATING: 'sk-rotate-old',
};

const chat = (model: string, content: string) => ({
  type: 'chat',
  request: { model: `openai/${model}`, messages: [{ role: 'user', content }], max_tokens: 5 },
});

async function submitMany(stack: Stack, bodies: unknown[]): Promise<string[]> {
  const response = await fetch(`${stack.apiUrl}/v1/jobs/batch`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.keys.alpha ?? ''}`, 'content-type': 'application/json' },
    body: JSON.stringify({ jobs: bodies }),
  });
  expect(response.status).toBe(202);
  return ((await response.json()) as { data: Array<{ id: string }> }).data.map((job) => job.id);
}

async function jobsOf(stack: Stack, ids: string[]): Promise<JobView[]> {
  const client = llmqClient(stack);
  const jobs: JobView[] = [];
  for (let start = 0; start < ids.length; start += 50) {
    const page = await Promise.all(ids.slice(start, start + 50).map(async (id) => (await client.get(id)).body));
    jobs.push(...(page as unknown as JobView[]));
  }
  return jobs;
}

describe('several accounts per provider, with real workers and a simulator that serves accounts', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startLlmqStack({
      workers: 2,
      workerEnv: WORKER_ENV,
      simulatorEnv: { SIM_ACCOUNTS: JSON.stringify(SIM_ACCOUNTS), SIM_LATENCY_MS: '20' },
      config: CONFIG,
    });
  }, 60_000);
  afterAll(async () => stack?.stop());

  it('two orgs at N rpm serve 2N a minute and two keys of one org serve N, with zero provider 429s', async () => {
    const sent = Date.now();
    const [twoOrgs, oneOrg] = await Promise.all([
      submitMany(
        stack,
        Array.from({ length: 150 }, (_, index) => chat('two-orgs', `two ${index}`)),
      ),
      submitMany(
        stack,
        Array.from({ length: 150 }, (_, index) => chat('one-org', `one ${index}`)),
      ),
    ]);
    const windowMs = 15_000;
    await new Promise((resolve) => setTimeout(resolve, windowMs + 1_000));
    const startedIn = (jobs: JobView[]) =>
      jobs.flatMap((job) => job.attempt_log).filter((call) => call.started_at * 1000 < sent + windowMs);
    const twoCalls = startedIn(await jobsOf(stack, twoOrgs));
    const oneCalls = startedIn(await jobsOf(stack, oneOrg));
    // One org's bucket: its burst (2) and 2 a second after it; never more.
    const oneOrgMost = 2 + (RPM / 60) * (windowMs / 1000) + 1;
    expect(oneCalls.length).toBeLessThanOrEqual(oneOrgMost);
    expect(twoCalls.length).toBeLessThanOrEqual(2 * oneOrgMost);
    // Two orgs' buckets add up; two keys of one org do not.
    expect(twoCalls.length).toBeGreaterThanOrEqual(1.7 * oneCalls.length);
    expect(oneCalls.length).toBeGreaterThan(0.6 * oneOrgMost);
    // Each org took its share of the two-org model.
    const byAccount = (calls: typeof twoCalls, account: string) => calls.filter((call) => call.account === account);
    expect(byAccount(twoCalls, 'x').length).toBeGreaterThan(0.35 * twoCalls.length);
    expect(byAccount(twoCalls, 'y').length).toBeGreaterThan(0.35 * twoCalls.length);
    expect(byAccount(oneCalls, 'z1').length + byAccount(oneCalls, 'z2').length).toBe(oneCalls.length);

    const { accounts } = await llmqClient(stack).stats();
    for (const key of ['sk-org-x', 'sk-org-y', 'sk-org-z-1', 'sk-org-z-2']) {
      expect(accounts[key]?.rateLimited, key).toBe(0);
    }
  }, 60_000);

  it('skips a dead account within one call: each job that met it moves to the live one at once', async () => {
    const client = llmqClient(stack);
    const firstWave = await submitMany(
      stack,
      Array.from({ length: 20 }, (_, index) => chat('dead-or-alive', `wave one ${index}`)),
    );
    const first = await Promise.all(firstWave.map((id) => client.waitForEnd(id, 30_000)));
    for (const job of first) {
      expect(job.status).toBe('succeeded');
      expect(job.account).toBe('live');
      const failed = job.attempt_log.filter((call) => call.status === 'failed');
      // At most the one call that found the account dead.
      expect(failed.length).toBeLessThanOrEqual(1);
      for (const call of failed) {
        expect(call.account).toBe('dead');
        expect(call.error?.type).toBe('authentication');
      }
    }
    // The first wave found the dead account (its calls were spread before its circuit opened).
    expect(first.some((job) => job.attempt_log.some((call) => call.account === 'dead'))).toBe(true);
    // The refused key opened the account's circuit: later jobs never try it.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const secondWave = await submitMany(
      stack,
      Array.from({ length: 10 }, (_, index) => chat('dead-or-alive', `wave two ${index}`)),
    );
    const second = await Promise.all(secondWave.map((id) => client.waitForEnd(id, 30_000)));
    for (const job of second) {
      expect(job.status).toBe('succeeded');
      expect(job.attempt_log.map((call) => call.account)).toEqual(['live']);
    }
    // The workers' metrics charge the tokens to the account that answered.
    const metrics = new PrometheusMetrics(
      await Promise.all(stack.workerMetricsUrls.map(async (url) => (await fetch(url)).text())),
    );
    const charged = (account: string) =>
      metrics.value('llmq_account_tokens_total', { model: 'openai/dead-or-alive', account, direction: 'input' });
    expect(charged('live')).toBeGreaterThan(0);
    expect(charged('dead')).toBe(0);
    expect(
      metrics.count('llmq_provider_call_duration_seconds', { model: 'openai/dead-or-alive', account: 'dead' }),
    ).toBeGreaterThan(0);
  }, 60_000);

  it('sends prompts sharing a long prefix to one account, whose prompt cache then serves them', async () => {
    const client = llmqClient(stack);
    // About 1,500 tokens of shared context per prefix: past the 1,024 tokens providers cache from.
    const context = (topic: string) =>
      `Context for ${topic}. ${'The committee reviewed the quarterly figures line by line and kept notes. '.repeat(90)}`;
    const topics = ['apples', 'bridges', 'comets', 'dunes'];
    const accountsByTopic = new Map<string, Set<string | null>>();
    for (const topic of topics) {
      for (let question = 0; question < 3; question++) {
        const { body } = await client.submit(chat('sticky', `${context(topic)}\nQuestion ${question}?`));
        const job = await client.waitForEnd(String(body.id), 20_000);
        expect(job.status).toBe('succeeded');
        const seen = accountsByTopic.get(topic) ?? new Set();
        seen.add(job.account);
        accountsByTopic.set(topic, seen);
        // The first job of a topic fills the account's cache; the others read from it.
        if (question > 0) expect(job.usage?.cached_input_tokens ?? 0).toBeGreaterThanOrEqual(1_024);
      }
    }
    for (const [topic, seen] of accountsByTopic) expect(seen.size, topic).toBe(1);
    // The prefixes spread over both accounts.
    const used = new Set([...accountsByTopic.values()].flatMap((seen) => [...seen]));
    expect(used).toEqual(new Set(['s1', 's2']));
    const { accounts } = await client.stats();
    const cached =
      (accounts['sk-sticky-1']?.cachedPromptTokens ?? 0) + (accounts['sk-sticky-2']?.cachedPromptTokens ?? 0);
    expect(cached).toBeGreaterThanOrEqual(8 * 1_024);
  }, 90_000);

  it('a rotated key takes effect as workers roll, and no queued job is lost', async () => {
    const client = llmqClient(stack);
    const before = await submitMany(
      stack,
      Array.from({ length: 5 }, (_, index) => chat('rotating', `old key ${index}`)),
    );
    for (const job of await Promise.all(before.map((id) => client.waitForEnd(id, 20_000)))) {
      expect(job.status).toBe('succeeded');
    }
    // Every worker goes; jobs submitted meanwhile wait in the queue.
    await Promise.all(stack.workers.map((worker) => worker.stop('SIGTERM', { killAfterMs: 10_000 })));
    const queued = await submitMany(
      stack,
      Array.from({ length: 5 }, (_, index) => chat('rotating', `new key ${index}`)),
    );
    await stack.addWorker({ KEY_ROTATING: 'sk-rotate-new' });
    for (const job of await Promise.all(queued.map((id) => client.waitForEnd(id, 30_000)))) {
      expect(job.status).toBe('succeeded');
      expect(job.account).toBe('rotating');
    }
    const { accounts } = await client.stats();
    expect(accounts['sk-rotate-old']?.requests).toBe(5);
    expect(accounts['sk-rotate-new']?.requests).toBe(5);
  }, 90_000);
});
