import type { BenchRow } from './bench-kit.js';

/** Why a target can be missed on this machine and what would fix it, per benchmark. */
export function misses(row: BenchRow): string {
  if (row.benchmark.startsWith('pipeline')) {
    return (
      'the baseline jobs do nothing, while each llmq job is an HTTP submission (validation, record, enqueue), a streamed ' +
      'provider call through the official SDK to a simulator that generates and counts tokens, the limiter and two record ' +
      'transitions, all on the same two cores as Redis, the simulator and the load generator. The pipeline is CPU-bound ' +
      'across processes; more cores (or API, workers and Redis on separate machines) scale it, and a non-streaming fast ' +
      'path for short calls would cut the SDK share.'
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
