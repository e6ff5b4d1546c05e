import { describe, expect, it } from 'vitest';
import { createModelCatalog } from '../catalog/provider-setup.js';
import { llmqConfigSchema } from '../config/llmq-config-schema.js';
import { createJobSubmissionSchema } from '../jobs/job-submission-schema.js';
import { cacheConfigSchema } from './cache-config-schema.js';
import { CachePolicy } from './cache-policy.js';

const submissions = createJobSubmissionSchema(createModelCatalog(llmqConfigSchema.parse({})));
const chat = (request: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  submissions.parse({
    type: 'chat',
    request: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }], ...request },
    ...extra,
  });

const policy = new CachePolicy(
  cacheConfigSchema.parse({
    ttl_s: 600,
    models: {
      'openai/*': { mode: 'exact' },
      'openai/gpt-4o-mini': { mode: 'semantic', ttl_s: 60, threshold: 0.9 },
      'anthropic/*': { mode: 'off' },
    },
    semantic: { embedding_model: 'openai/text-embedding-3-small' },
  }),
);

describe('CachePolicy', () => {
  it('applies a config default only to deterministic requests: temperature 0, or a seed without temperature', () => {
    expect(policy.decide(chat({ temperature: 0 }), 'openai/gpt-4o')).toMatchObject({ mode: 'exact', ttlMs: 600_000 });
    expect(policy.decide(chat({ seed: 7 }), 'openai/gpt-4o')?.mode).toBe('exact');
    expect(policy.decide(chat({}), 'openai/gpt-4o')).toBeNull();
    expect(policy.decide(chat({ temperature: 0.7, seed: 7 }), 'openai/gpt-4o')).toBeNull();
  });

  it('prefers exact names over globs and honours off', () => {
    expect(policy.decide(chat({ temperature: 0 }), 'openai/gpt-4o-mini')).toMatchObject({
      mode: 'semantic',
      ttlMs: 60_000,
      threshold: 0.9,
      source: 'config: openai/gpt-4o-mini',
    });
    expect(policy.decide(chat({ temperature: 0 }), 'anthropic/claude-haiku-4-5')).toBeNull();
    expect(policy.decide(chat({ temperature: 0 }), 'google/gemini-2.5-flash')).toBeNull();
  });

  it("treats a job's own cache as an explicit opt-in, whatever its temperature, and lets it turn caching off", () => {
    const own = chat({ temperature: 1 }, { cache: { mode: 'exact', ttl_s: 5 } });
    expect(policy.decide(own, 'google/gemini-2.5-flash')).toMatchObject({ mode: 'exact', ttlMs: 5_000, source: 'job' });
    expect(policy.decide(chat({ temperature: 0 }, { cache: { mode: 'off' } }), 'openai/gpt-4o')).toBeNull();
  });

  it('falls back to exact when no semantic section is configured', () => {
    const plain = new CachePolicy(cacheConfigSchema.parse({}));
    expect(plain.decide(chat({}, { cache: { mode: 'semantic' } }), 'openai/gpt-4o')?.mode).toBe('exact');
  });

  it('refuses a semantic rule without a semantic section, and semantic embedding jobs', () => {
    expect(cacheConfigSchema.safeParse({ models: { 'x/*': { mode: 'semantic' } } }).success).toBe(false);
    const embedding = submissions.safeParse({
      type: 'embedding',
      request: { model: 'openai/text-embedding-3-small', input: 'a' },
      cache: { mode: 'semantic' },
    });
    expect(embedding.success).toBe(false);
  });
});
