import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('has defaults for everything', () => {
    expect(loadConfig({})).toEqual({
      port: 4010,
      host: '127.0.0.1',
      options: { latencyMs: 0, jitterMs: 0, chunkDelayMs: 0, limits: {} },
    });
  });

  it('reads limits, latency and keys', () => {
    const config = loadConfig({
      SIM_PORT: '0',
      SIM_LATENCY_MS: '250',
      SIM_RPM: '500',
      SIM_TPM: '200000',
      SIM_API_KEYS: 'sk-a, sk-b,,',
      SIM_HOST: '',
    });
    expect(config.port).toBe(0);
    expect(config.host).toBe('127.0.0.1');
    expect(config.options).toMatchObject({
      latencyMs: 250,
      limits: { '*': { rpm: 500, tpm: 200_000 } },
      apiKeys: ['sk-a', 'sk-b'],
    });
  });

  it('reads the batch clock', () => {
    const config = loadConfig({ SIM_BATCH_PROCESSING_MS: '0', SIM_BATCH_EXPIRY_MS: '60000' });
    expect(config.options).toMatchObject({ batchProcessingMs: 0, batchExpiryMs: 60_000 });
  });

  it.each([
    ['SIM_PORT', '70000'],
    ['SIM_PORT', 'eighty'],
    ['SIM_LATENCY_MS', '-5'],
    ['SIM_RPM', '0'],
    ['SIM_TPM', '1.5'],
    ['SIM_BATCH_PROCESSING_MS', '-1'],
    ['SIM_BATCH_EXPIRY_MS', 'soon'],
  ])('fails naming %s when it is %s', (variable, value) => {
    expect(() => loadConfig({ [variable]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [variable]: value })).toThrow(variable);
  });

  it('reads accounts, which list the accepted keys', () => {
    const accounts = [
      { key: 'key-a1', org: 'org-a', rpm: 60, tpm: 100_000 },
      { key: 'key-a2', org: 'org-a' },
      { key: 'key-b', org: 'org-b', rpm: 60 },
    ];
    const config = loadConfig({ SIM_ACCOUNTS: JSON.stringify(accounts), SIM_RPM: '500' });
    expect(config.options).toMatchObject({ accounts, limits: { '*': { rpm: 500 } } });
    expect(config.options.apiKeys).toBeUndefined();
  });

  it.each([
    ['is not JSON', { SIM_ACCOUNTS: '[{key: "a"}]' }, /SIM_ACCOUNTS: not valid JSON/],
    ['lacks an org', { SIM_ACCOUNTS: '[{"key":"a"}]' }, /SIM_ACCOUNTS\.0\.org/],
    ['is empty', { SIM_ACCOUNTS: '[]' }, /SIM_ACCOUNTS/],
    [
      'gives one org two limits',
      { SIM_ACCOUNTS: '[{"key":"a","org":"org-a","rpm":60},{"key":"b","org":"org-a","rpm":30}]' },
      /SIM_ACCOUNTS: accounts of org "org-a" give different rpm limits \(60 and 30\)/,
    ],
    [
      'lists a key twice',
      { SIM_ACCOUNTS: '[{"key":"a","org":"org-a"},{"key":"a","org":"org-b"}]' },
      /SIM_ACCOUNTS: the key of org "org-b" is listed twice/,
    ],
    [
      'comes with SIM_API_KEYS',
      { SIM_ACCOUNTS: '[{"key":"a","org":"org-a"}]', SIM_API_KEYS: 'a' },
      /SIM_ACCOUNTS and SIM_API_KEYS cannot both be set/,
    ],
  ])('fails when SIM_ACCOUNTS %s', (_case, environment, message) => {
    expect(() => loadConfig(environment)).toThrow(ConfigError);
    expect(() => loadConfig(environment)).toThrow(message);
  });
});
