import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { BatchMetrics } from './batch-metrics.js';

describe('BatchMetrics', () => {
  it('counts batches made, ended by status, and their lines by outcome', async () => {
    const registry = new Registry();
    const metrics = new BatchMetrics(registry);
    metrics.created({ endpoint: '/v1/chat/completions' });
    metrics.ended({
      endpoint: '/v1/chat/completions',
      status: 'completed',
      request_counts: { completed: 3, failed: 1 },
    });
    metrics.ended({ endpoint: '/v1/embeddings', status: 'failed', request_counts: { completed: 0, failed: 0 } });
    const text = await registry.metrics();
    expect(text).toContain('llmq_batches_created_total{endpoint="/v1/chat/completions"} 1');
    expect(text).toContain('llmq_batches_ended_total{status="completed"} 1');
    expect(text).toContain('llmq_batches_ended_total{status="failed"} 1');
    expect(text).toContain('llmq_batch_lines_total{outcome="completed"} 3');
    expect(text).toContain('llmq_batch_lines_total{outcome="failed"} 1');
  });
});
