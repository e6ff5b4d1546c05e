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
});
