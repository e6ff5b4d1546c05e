import { describe, expect, it } from 'vitest';
import { parseLlmqConfig } from '../config/llmq-config-schema.js';
import { LimitRules } from '../limiter/limit-rules.js';
import { preferredOrder, ProviderAccounts, splitBucketName } from './provider-accounts.js';
import { PROMPT_PREFIX_CHARS, promptPrefixDigest } from './prompt-prefix.js';

const CONFIG = `
limits:
  openai/gpt-4o-mini: { rpm: 500 }
accounts:
  openai:
    - { name: a1, org: org-a, api_key_env: KEY_A1, limits: { "gpt-4o*": { rpm: 1000 } } }
    - { name: a2, org: org-a, api_key_env: KEY_A2 }
    - { name: b, api_key_file: /run/secrets/b, models: ["gpt-4o-mini", "o*"] }
`;

describe('ProviderAccounts', () => {
  const config = parseLlmqConfig(CONFIG, 'test.yaml');
  const accounts = new ProviderAccounts(config);

  it('routes a model to the accounts that serve it: one bucket per org, one circuit per account', () => {
    expect(accounts.has('openai')).toBe(true);
    expect(accounts.has('anthropic')).toBe(false);
    expect(accounts.routes({ provider: 'openai', modelId: 'gpt-4o-mini' })).toEqual([
      { account: 'a1', org: 'org-a', bucket: 'openai/gpt-4o-mini#org-a', circuit: 'openai/gpt-4o-mini#org-a/a1' },
      { account: 'a2', org: 'org-a', bucket: 'openai/gpt-4o-mini#org-a', circuit: 'openai/gpt-4o-mini#org-a/a2' },
      { account: 'b', org: 'b', bucket: 'openai/gpt-4o-mini#b', circuit: 'openai/gpt-4o-mini#b/b' },
    ]);
    // `models` limits an account to the models it names.
    expect(accounts.routes({ provider: 'openai', modelId: 'gpt-4.1' }).map((route) => route.account)).toEqual([
      'a1',
      'a2',
    ]);
    expect(accounts.routes({ provider: 'anthropic', modelId: 'claude' })).toEqual([]);
    expect(splitBucketName('openai/gpt-4o-mini#org-a')).toEqual({ model: 'openai/gpt-4o-mini', org: 'org-a' });
    expect(splitBucketName('openai/gpt-4o-mini')).toEqual({ model: 'openai/gpt-4o-mini' });
  });

  it("gives an org's bucket the org's own limit, else the model's", () => {
    const rules = new LimitRules(config);
    const rpmOf = (bucket: string) => {
      const limits = rules.forModel(bucket, 't');
      return limits === undefined
        ? undefined
        : Math.floor(limits.model.requestRate * 60_250 + limits.model.requestCapacity);
    };
    expect(rpmOf('openai/gpt-4o-mini#org-a')).toBe(1_000);
    expect(rpmOf('openai/gpt-4o-mini#b')).toBe(500);
    expect(rpmOf('openai/gpt-4o-mini')).toBe(500);
    expect(rpmOf('openai/o3#b')).toBeUndefined();
  });

  it('ranks accounts for a prefix the same way every time, and spreads prefixes over them', () => {
    const routes = accounts.routes({ provider: 'openai', modelId: 'gpt-4o-mini' });
    const firsts = new Map<string, number>();
    for (let index = 0; index < 3_000; index++) {
      const order = preferredOrder(routes, `prefix-${index}`);
      expect(preferredOrder(routes, `prefix-${index}`)).toEqual(order);
      const first = order[0]?.account ?? '';
      firsts.set(first, (firsts.get(first) ?? 0) + 1);
    }
    for (const account of ['a1', 'a2', 'b']) expect(firsts.get(account)).toBeGreaterThan(850);
    // Taking an account away moves only the prefixes it had.
    const without = routes.filter((route) => route.account !== 'b');
    for (let index = 0; index < 300; index++) {
      const before = preferredOrder(routes, `prefix-${index}`)[0]?.account;
      if (before !== 'b') expect(preferredOrder(without, `prefix-${index}`)[0]?.account).toBe(before);
    }
  });
});

describe('accounts in the config', () => {
  const refused = (text: string) => () => parseLlmqConfig(text, 'test.yaml');

  it('refuses duplicate names, both key sources, an unknown provider and orgs that disagree on a limit', () => {
    expect(refused('accounts: { openai: [{ name: a }, { name: a }] }')).toThrow('account "a" is listed twice');
    expect(refused('accounts: { openai: [{ name: a, api_key_env: K, api_key_file: /k }] }')).toThrow(
      'give api_key_env or api_key_file, not both',
    );
    expect(refused('accounts: { nowhere: [{ name: a }] }')).toThrow('"nowhere" is neither built in nor declared');
    expect(
      refused(
        'accounts: { openai: [{ name: a, org: o, limits: { m: { rpm: 1 } } }, { name: b, org: o, limits: { m: { rpm: 2 } } }] }',
      ),
    ).toThrow('accounts of org "o" give different limits for m');
    expect(refused('accounts: { openai: [{ name: "A B" }] }')).toThrow('account names are lowercase');
  });

  it('takes accounts of a declared custom provider', () => {
    const config = parseLlmqConfig(
      `providers: { local: { type: openai-compatible, base_url: "http://127.0.0.1:9/v1" } }
accounts: { local: [{ name: one }, { name: two, base_url: "http://127.0.0.1:10/v1" }] }`,
      'test.yaml',
    );
    expect(config.accounts.local?.map((account) => account.name)).toEqual(['one', 'two']);
    expect(config.account_stickiness).toBe(true);
  });
});

describe('promptPrefixDigest', () => {
  const long = (head: string) => `${head} ${'x'.repeat(PROMPT_PREFIX_CHARS)}`;

  it('names the first 4,096 characters of a prompt; shorter prompts have none', () => {
    const digest = promptPrefixDigest({ messages: [{ role: 'user', content: long('same') }] });
    expect(digest).toMatch(/^[A-Za-z0-9_-]{16}$/);
    // What comes after the prefix does not matter; what is in it does.
    expect(promptPrefixDigest({ messages: [{ role: 'user', content: `${long('same')} and more` }] })).toBe(digest);
    expect(promptPrefixDigest({ messages: [{ role: 'user', content: long('other') }] })).not.toBe(digest);
    expect(promptPrefixDigest({ messages: [{ role: 'user', content: 'short' }] })).toBeUndefined();
    // Split over messages and parts, the same text in the same roles is the same prefix.
    const parts = promptPrefixDigest({
      messages: [
        { role: 'system', content: [{ type: 'text', text: 'a'.repeat(2_000) }] },
        { role: 'user', content: [{ type: 'text', text: 'b'.repeat(3_000) }] },
      ],
    });
    const plain = promptPrefixDigest({
      messages: [
        { role: 'system', content: 'a'.repeat(2_000) },
        { role: 'user', content: 'b'.repeat(3_000) },
      ],
    });
    expect(parts).toBe(plain);
  });

  it('reads no more than the prefix of the largest prompt the API accepts', () => {
    const messages = Array.from({ length: 100_000 }, () => ({ role: 'user' as const, content: 'y'.repeat(40) }));
    const huge = { messages: [{ role: 'user' as const, content: 'z'.repeat(4_000_000) }, ...messages] };
    const started = performance.now();
    for (let run = 0; run < 100; run++) promptPrefixDigest(huge);
    // 100 digests of a 8 MB prompt: each reads 4,096 characters, not the prompt.
    expect(performance.now() - started).toBeLessThan(500);
  });
});
