import { Counter, type Registry } from 'prom-client';

/** The batch as the metrics read it. */
interface BatchFigures {
  endpoint: string;
  status: string;
  request_counts: { completed: number; failed: number };
}

/**
 * Batches through this API process: made, ended by final status, and their lines by outcome.
 * Whichever process ends a batch (the holder of its lock) counts its end and its lines, once.
 */
export class BatchMetrics {
  readonly #created: Counter<'endpoint'>;
  readonly #ended: Counter<'status'>;
  readonly #lines: Counter<'outcome'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.#created = new Counter({
      name: 'llmq_batches_created_total',
      help: 'Batches created (POST /v1/batches) through this API process, by endpoint',
      labelNames: ['endpoint'],
      registers,
    });
    this.#ended = new Counter({
      name: 'llmq_batches_ended_total',
      help: 'Batches ended by this API process, by final status (completed, failed, cancelled, expired)',
      labelNames: ['status'],
      registers,
    });
    this.#lines = new Counter({
      name: 'llmq_batch_lines_total',
      help: 'Lines of the batches this API process ended, by outcome (completed, failed)',
      labelNames: ['outcome'],
      registers,
    });
  }

  created(batch: Pick<BatchFigures, 'endpoint'>): void {
    this.#created.inc({ endpoint: batch.endpoint });
  }

  ended(batch: BatchFigures): void {
    this.#ended.inc({ status: batch.status });
    if (batch.request_counts.completed > 0) this.#lines.inc({ outcome: 'completed' }, batch.request_counts.completed);
    if (batch.request_counts.failed > 0) this.#lines.inc({ outcome: 'failed' }, batch.request_counts.failed);
  }
}
