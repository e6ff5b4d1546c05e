import type { BenchRow } from './bench-kit.js';

/** Why a target can be missed on this machine and what would fix it, per benchmark. */
export function misses(row: BenchRow): string {
  if (row.benchmark.startsWith('pipeline')) {
    return (
      'the baseline jobs do nothing, while each llmq job is an HTTP submission (validation, a record, an enqueue: two ' +
      'Redis round trips), then in the worker an admission (one round trip), two record transitions, a settlement and ' +
      "BullMQ's own completion, and a streamed call through the official openai SDK to a simulator that generates text " +
      'and counts tokens, with every process (Redis, API, two workers, simulator, load generator) on the same two cores. ' +
      "A CPU profile of a worker puts about a fifth of its time in the SDK's request and SSE parsing, a tenth in Redis " +
      'commands and a tenth in garbage collection. What would close the gap: processes on their own cores or machines ' +
      '(the pipeline is CPU-bound and scales out), carrying the request in the BullMQ job to save the record read, and ' +
      'a non-streaming path for short calls.'
    );
  }
  if (row.benchmark.startsWith('ingest')) {
    return (
      'the bare handler touches no Redis; every llmq submission writes its record (one Lua script) and its BullMQ job ' +
      '(one more), validates the body against the job catalog and counts its tokens for the limiter. On two cores Redis ' +
      'and the load generator take a large share; the batch endpoint is the fast path for bulk work.'
    );
  }
  if (row.benchmark.includes('drain')) {
    return 'the bucket refills at (limit - burst) per (60 s + the 250 ms reservation tolerance), a deliberate margin so no window can overshoot; on a loaded machine late wake-ups requeue.';
  }
  return 'see the figures; this run missed the target.';
}
