import { describe, expect, it } from 'vitest';
import { createModelCatalog } from '../catalog/provider-setup.js';
import { llmqConfigSchema } from '../config/llmq-config-schema.js';
import { PriceTable } from '../cost/price-table.js';
import { createJobSubmissionSchema } from '../jobs/job-submission-schema.js';
import { estimateJobCostNano } from './job-cost-estimate.js';

const catalog = createModelCatalog(llmqConfigSchema.parse({}));
const submissions = createJobSubmissionSchema(catalog);
const prices = new PriceTable();
const estimate = (body: unknown, tokens: number) =>
  estimateJobCostNano({ submission: submissions.parse(body), tokens, catalog, prices, defaultOutputTokens: 1024 });

describe('estimateJobCostNano', () => {
  it('prices the prompt as input and max_tokens as output', () => {
    const body = {
      type: 'chat',
      request: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], max_tokens: 100 },
    };
    // 110 tokens estimated: 10 prompt at $0.15/M + 100 output at $0.60/M.
    expect(estimate(body, 110)).toBe(10 * 150 + 100 * 600);
  });

  it('prices the dearest model the job may reach, with its own default output', () => {
    const body = {
      type: 'chat',
      request: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] },
      fallbacks: ['anthropic/claude-haiku-4-5', 'openai/no-price-model'],
    };
    // Prompt 10; Anthropic may answer with up to 4096 tokens at $5/M.
    expect(estimate(body, 10 + 1024)).toBe(10 * 1_000 + 4096 * 5_000);
  });

  it('counts embeddings as input only, and unpriced models as nothing', () => {
    const embedding = { type: 'embedding', request: { model: 'openai/text-embedding-3-small', input: ['a', 'b'] } };
    expect(estimate(embedding, 2)).toBe(2 * 20);
  });
});
