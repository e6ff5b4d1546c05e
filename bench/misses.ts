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
    return 'the bucket refills at (limit - burst) per (60 s + the 250 ms reservation tolerance), a deliberate margin so that no window can overshoot, and late wake-ups queue again. That costs about 2.4%; the rest is the 315 provider 429s of this run (1.6% of calls, every one retried to success, 0 jobs failed). They come from scheduling lag: with Redis, the API, four workers, the simulator and the load generator on two cores, calls admitted on schedule reached the simulator (and were timestamped by it) bunched by more than the ~50 requests of headroom a 60 s window has at 12,000 RPM. The accuracy run at 20 calls/s saw none. What would fix it: a wider safety margin in the refill (a configurable margin per limit, traded against steady-state use, now 97.6%), or processes with cores of their own.';
  }
  if (row.benchmark.startsWith('hostile')) {
    return 'see the hostile-inputs section of the README: which step of the request held the event loop is named there with its bound.';
  }
  if (row.benchmark.startsWith('job cost')) {
    return (
      'the tables printed by `pnpm bench:cost` say where: per process CPU, Redis commands by command (counted as INFO ' +
      'commandstats counts them, the commands inside Lua scripts included) and bytes per finished and queued job. ' +
      "Issue 20's work is to bring each down by measurement: fewer round trips and record writes per job, less CPU per " +
      'submission and per call, and less kept per finished job.'
    );
  }
  return 'see the figures; this run missed the target.';
}
