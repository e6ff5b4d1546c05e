import { Redis } from 'ioredis';
import { describe, expect } from 'vitest';
import { redisTest } from '@llmq/devkit/vitest';
import { WebhookSecretStore, webhookSecretsKey } from './webhook-secret-store.js';

let clock = 1_763_683_200_000;
const test = redisTest.extend('secrets', async ({ redisUrl }, { onCleanup }) => {
  const redis = new Redis(redisUrl);
  onCleanup(async () => {
    await redis.quit();
  });
  return { redis, store: new WebhookSecretStore({ redis, now: () => clock }) };
});
let tenants = 0;
const freshTenant = () => `tenant-${(tenants += 1)}-${Date.now()}`;

describe('webhook secret store', () => {
  test('creates a tenant’s secret on first use and keeps it', async ({ secrets }) => {
    const tenant = freshTenant();
    const first = await secrets.store.get(tenant);
    expect(first.current.secret).toMatch(/^whsec_/);
    expect(first.current.id).toMatch(/^whs_/);
    expect(first.previous).toEqual([]);
    expect((await secrets.store.get(tenant)).current).toEqual(first.current);
    expect(await secrets.store.signingSecrets(tenant)).toEqual([first.current.secret]);
    expect(await secrets.redis.exists(webhookSecretsKey(tenant))).toBe(1);
  });

  test('gives concurrent first uses one and the same secret', async ({ secrets }) => {
    const tenant = freshTenant();
    const all = await Promise.all(Array.from({ length: 20 }, () => secrets.store.get(tenant)));
    expect(new Set(all.map((entry) => entry.current.secret)).size).toBe(1);
  });

  test('rotates: the old secret signs too until its grace ends', async ({ secrets }) => {
    const tenant = freshTenant();
    const before = await secrets.store.get(tenant);
    const after = await secrets.store.rotate(tenant, 60_000);
    expect(after.current.secret).not.toBe(before.current.secret);
    expect(after.previous).toEqual([{ ...before.current, expiresAt: clock + 60_000 }]);
    expect(await secrets.store.signingSecrets(tenant)).toEqual([after.current.secret, before.current.secret]);
    clock += 60_001;
    expect(await secrets.store.signingSecrets(tenant)).toEqual([after.current.secret]);
    const again = await secrets.store.rotate(tenant, 60_000);
    expect(again.previous.map((entry) => entry.id)).toEqual([after.current.id]);
  });

  test('rotates with no grace, and deletes an old secret early', async ({ secrets }) => {
    const tenant = freshTenant();
    const first = await secrets.store.get(tenant);
    const second = await secrets.store.rotate(tenant, 0);
    expect(second.previous).toEqual([]);
    expect(await secrets.store.signingSecrets(tenant)).not.toContain(first.current.secret);

    const third = await secrets.store.rotate(tenant, 3_600_000);
    expect(await secrets.store.deletePrevious(tenant, third.current.id)).toBe('current');
    expect(await secrets.store.deletePrevious(tenant, 'whs_unknown')).toBe('missing');
    expect(await secrets.store.deletePrevious(tenant, second.current.id)).toBe('deleted');
    expect(await secrets.store.signingSecrets(tenant)).toEqual([third.current.secret]);
  });

  test('keeps at most four old secrets in grace', async ({ secrets }) => {
    const tenant = freshTenant();
    for (let round = 0; round < 7; round += 1) await secrets.store.rotate(tenant, 3_600_000);
    const state = await secrets.store.get(tenant);
    expect(state.previous).toHaveLength(4);
  });

  test('rotation of a tenant without a secret just creates one', async ({ secrets }) => {
    const state = await secrets.store.rotate(freshTenant(), 60_000);
    expect(state.previous).toEqual([]);
  });
});
