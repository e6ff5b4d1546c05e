import { describe, expect, it } from 'vitest';
import { createModelCatalog, llmqConfigSchema } from '@llmq/core';
import { describeModel, listModels } from './model-list.js';

const catalog = createModelCatalog(
  llmqConfigSchema.parse({
    providers: { local: { type: 'openai-compatible', base_url: 'http://127.0.0.1:8000/v1' } },
    aliases: { fast: ['openai/gpt-4o-mini', 'local/llama-3.1-8b'] },
  }),
);

describe('listModels', () => {
  it('lists aliases, their chains and exactly-named limited models, sorted, skipping globs and unknown providers', () => {
    const ids = listModels(catalog, ['anthropic/*', 'google/gemini-2.5-flash', 'nowhere/model']).map(
      (model) => model.id,
    );
    expect(ids).toEqual(['fast', 'google/gemini-2.5-flash', 'local/llama-3.1-8b', 'openai/gpt-4o-mini']);
  });
});

describe('describeModel', () => {
  it('owns an alias as llmq and a provider/model by its provider; null for an unknown provider', () => {
    expect(describeModel(catalog, 'fast')).toEqual({ id: 'fast', object: 'model', created: 0, owned_by: 'llmq' });
    expect(describeModel(catalog, 'local/org/model')?.owned_by).toBe('local');
    expect(describeModel(catalog, 'nowhere/model')).toBeNull();
    expect(describeModel(catalog, 'no-slash')).toBeNull();
  });
});
