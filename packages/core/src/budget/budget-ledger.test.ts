import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect } from 'vitest';
import { redisTest } from '@llmq/devkit/vitest';
import { budgetKey, budgetSpentField, utcMonth } from '../cost/usage-keys.js';
import { BudgetLedger } from './budget-ledger.js';

describe('BudgetLedger', () => {
  redisTest('refuses at the edge and never lets concurrent reservations exceed the budget', async ({ redisUrl }) => {
    const redis = new Redis(redisUrl);
    const tenant = `t${randomUUID().slice(0, 8)}`;
    // $0.01 budget; $0.003 already spent this month.
    const ledger = new BudgetLedger({ redis, budgets: { [tenant]: 0.01, '*': 5 } });
    await redis.hset(budgetKey(tenant), budgetSpentField(utcMonth(Date.now())), 3_000_000);
    const clients = Array.from({ length: 8 }, () => new Redis(redisUrl));
    const attempts = await Promise.all(
      Array.from({ length: 40 }, (_unused, index) =>
        new BudgetLedger({ redis: clients[index % clients.length] ?? redis, budgets: { [tenant]: 0.01 } }).reserve(
          tenant,
          1_000_000,
        ),
      ),
    );
    // $0.007 left: exactly seven reservations of $0.001 fit.
    expect(attempts.filter((attempt) => attempt.ok)).toHaveLength(7);
    expect(await redis.hget(budgetKey(tenant), 'reserved')).toBe('7000000');
    const refused = await ledger.reserve(tenant, 1);
    expect(refused).toMatchObject({ ok: false, status: { budget_usd: 0.01, spent_usd: 0.003, reserved_usd: 0.007 } });

    await ledger.release(tenant, 1_000_000);
    expect((await ledger.reserve(tenant, 1_000_000)).ok).toBe(true);
    expect(ledger.budgetNano('someone-else')).toBe(5_000_000_000);
    expect(new BudgetLedger({ redis, budgets: {} }).budgetNano(tenant)).toBeNull();
    await Promise.all([...clients, redis].map((client) => client.quit()));
  });
});
