/** The baseline: a bare BullMQ worker whose jobs do nothing. */
import { Worker } from 'bullmq';

const worker = new Worker('raw-baseline', async () => ({ ok: true }), {
  connection: { url: process.env.REDIS_URL ?? '', maxRetriesPerRequest: null },
  prefix: '{bench}',
  concurrency: Number(process.env.WORKER_CONCURRENCY ?? 64),
  removeOnComplete: { count: 1_000_000 },
});
await worker.waitUntilReady();
console.log('raw worker ready');
process.once('SIGTERM', () => void worker.close().then(() => process.exit(0)));
