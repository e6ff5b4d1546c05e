import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect } from 'vitest';
import { redisTest } from '@llmq/devkit/vitest';
import { CircuitBreaker, LimitRules, parseLlmqConfig, preferredOrder, ProviderAccounts, RateLimiter } from '@llmq/core';
import { AccountChooser } from './account-chooser.js';

const test = redisTest.extend('accounts', async ({ redisUrl }, { onCleanup }) => {
  const redis = new Redis(redisUrl);
  onCleanup(() => void redis.quit().catch(() => undefined));
  // A fresh model per test: fresh buckets and circuits.
  const modelId = `m-${randomUUID().slice(0, 8)}`;
  const config = parseLlmqConfig(
    `accounts:
  openai:
    - { name: a, limits: { "m-*": { rpm: 600 } } }
    - { name: b, limits: { "m-*": { rpm: 600 } } }
fairness: { enabled: false }
`,
    'test.yaml',
  );
  const limiter = new RateLimiter(redis);
  const rules = new LimitRules(config);
  const breaker = new CircuitBreaker(redis);
  const accounts = new ProviderAccounts(config);
  const chooser = new AccountChooser({ accounts, limiter, rules, circuit: breaker });
  const reference = { provider: 'openai', modelId };
  /** Takes every request the account's bucket holds (600 rpm: 12 at once). */
  const drain = async (account: string) => {
    const bucket = `openai/${modelId}#${account}`;
    const limits = rules.forModel(bucket, 't');
    if (!limits) throw new Error('no limits');
    for (let taken = 0; taken < 12; taken++) {
      await limiter.acquire({ model: bucket, tenant: 't', limits, requests: 1, tokens: 0 });
    }
  };
  return { chooser, breaker, accounts, reference, drain, limiter };
});

const sticky = (accounts: ProviderAccounts, reference: { provider: string; modelId: string }, account: string) => {
  for (let index = 0; ; index++) {
    const prefix = `prefix-${index}`;
    if (preferredOrder(accounts.routes(reference), prefix)[0]?.account === account) return prefix;
  }
};

describe('AccountChooser', () => {
  test('a prefix goes to its account while that account has room, else to the one with most headroom', async ({
    accounts: { chooser, accounts, reference, drain },
  }) => {
    const prefix = sticky(accounts, reference, 'a');
    const chosen = async () => {
      const choice = await chooser.choose(reference, { tenant: 't', tokens: 10, prefix });
      return choice.kind === 'chosen' ? choice.route.account : choice.kind;
    };
    expect(await chosen()).toBe('a');
    await drain('a');
    expect(await chosen()).toBe('b');
  });

  test('without a prefix, the account with most headroom', async ({ accounts: { chooser, reference, drain } }) => {
    await drain('b');
    for (let run = 0; run < 5; run++) {
      const choice = await chooser.choose(reference, { tenant: 't', tokens: 10 });
      expect(choice.kind === 'chosen' && choice.route.account).toBe('a');
    }
  });

  test('skips an account whose circuit is open, keeps a reserved one, and avoids one the job failed on', async ({
    accounts: { chooser, breaker, accounts, reference },
  }) => {
    const [routeA, routeB] = accounts.routes(reference);
    if (!routeA || !routeB) throw new Error('two routes expected');
    const account = async (call: { keep?: string; avoid?: string[]; prefix?: string } = {}) => {
      const choice = await chooser.choose(reference, { tenant: 't', tokens: 10, ...call });
      return choice.kind === 'chosen' ? choice.route.account : choice.kind;
    };
    expect(await account({ keep: 'b', prefix: sticky(accounts, reference, 'a') })).toBe('b');
    expect(await account({ avoid: ['a'], prefix: sticky(accounts, reference, 'a') })).toBe('b');
    // Every account avoided: any may go again.
    expect(['a', 'b']).toContain(await account({ avoid: ['a', 'b'] }));

    await breaker.record(routeA.circuit, 'dead');
    for (let run = 0; run < 5; run++) expect(await account({ keep: 'a' })).toBe('b');
    await breaker.record(routeB.circuit, 'dead');
    const closed = await chooser.choose(reference, { tenant: 't', tokens: 10 });
    expect(closed.kind).toBe('closed');
    expect(closed.kind === 'closed' && closed.waitMs).toBeGreaterThan(25_000);
  });

  test('a provider without accounts has no choice to make', async ({ accounts: { chooser } }) => {
    expect(await chooser.choose({ provider: 'anthropic', modelId: 'claude' }, { tenant: 't', tokens: 1 })).toEqual({
      kind: 'none',
    });
  });
});
