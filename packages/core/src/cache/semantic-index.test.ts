import { Redis } from 'ioredis';
import { describe, expect } from 'vitest';
import { redisTest } from '@llmq/devkit/vitest';
import type { CachedChatAnswer } from './exact-cache.js';
import { RedisSemanticIndex } from './semantic-index.js';
import { normaliseVector } from './vector-codec.js';

const answer = (text: string): CachedChatAnswer => ({
  result: {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 0,
    model: 'openai/gpt-4o-mini',
    provider: 'openai',
    choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
  },
  usage: { input_tokens: 1, output_tokens: 1 },
  model: 'openai/gpt-4o-mini',
  jobId: 'job_1',
  storedAt: 0,
});

const angle = (radians: number) => normaliseVector([Math.cos(radians), Math.sin(radians)]);

describe('RedisSemanticIndex', () => {
  redisTest(
    'answers from the nearest entry at or above the threshold, and only within its scope',
    async ({ redisUrl }) => {
      const redis = new Redis(redisUrl);
      const index = new RedisSemanticIndex(redis);
      const common = { tenant: 'a', scope: 's1', ttlMs: 60_000, maxEntries: 10 };
      await index.store({ ...common, id: 'near', vector: angle(0.2), answer: answer('near') });
      await index.store({ ...common, id: 'far', vector: angle(1.5), answer: answer('far') });

      const hit = await index.lookup({ tenant: 'a', scope: 's1', vector: angle(0.1), threshold: 0.99 });
      expect(hit.nearest?.id).toBe('near');
      expect(hit.nearest?.similarity).toBeCloseTo(Math.cos(0.1), 6);
      expect(hit.answer?.result.choices[0]?.message.content).toBe('near');
      expect(hit.compared).toBe(2);

      const below = await index.lookup({ tenant: 'a', scope: 's1', vector: angle(0.5), threshold: 0.99 });
      expect(below.nearest?.id).toBe('near');
      expect(below.answer).toBeNull();

      expect((await index.lookup({ tenant: 'b', scope: 's1', vector: angle(0.2), threshold: 0.5 })).nearest).toBeNull();
      expect((await index.lookup({ tenant: 'a', scope: 's2', vector: angle(0.2), threshold: 0.5 })).nearest).toBeNull();
      await redis.quit();
    },
  );

  redisTest(
    'keeps at most maxEntries per scope, dropping the first to expire, and forgets expired entries',
    async ({ redisUrl }) => {
      const redis = new Redis(redisUrl);
      let now = 1_000_000;
      const index = new RedisSemanticIndex(redis, { now: () => now });
      const common = { tenant: 'a', scope: 'bounded', maxEntries: 3 };
      for (let entry = 0; entry < 5; entry += 1) {
        now += 1;
        await index.store({
          ...common,
          id: `e${entry}`,
          vector: angle(entry),
          answer: answer(`${entry}`),
          ttlMs: 10_000,
        });
      }
      const ids = await redis.zrange('llmq:{t:a}:cache:sem:bounded:expiries', 0, -1);
      expect(ids).toEqual(['e2', 'e3', 'e4']);
      expect(await redis.hlen('llmq:{t:a}:cache:sem:bounded:vectors')).toBe(3);
      expect(await redis.hlen('llmq:{t:a}:cache:sem:bounded:answers')).toBe(3);

      now += 20_000;
      const expired = await index.lookup({ tenant: 'a', scope: 'bounded', vector: angle(4), threshold: 0.5 });
      expect(expired).toMatchObject({ nearest: null, compared: 0 });
      await redis.quit();
    },
  );
});
