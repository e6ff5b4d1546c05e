/**
 * The cost of one job, per process: CPU milliseconds of the API, each worker, the simulator,
 * Redis and the load generator, Redis commands by command, Redis bytes per finished and per
 * queued job, and the event-loop delay of each llmq process; the same for raw BullMQ no-op jobs
 * (producer, workers, Redis) in the same run, on the same redis-server.
 *
 * CPU comes from each process's own counters (/proc/<pid>/stat for Node processes, INFO cpu for
 * Redis, process.cpuUsage() for this process) over the run alone: process starts are outside it.
 */
import { readFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { jobRecordKey, LLM_QUEUE_NAME, QUEUE_PREFIX } from '@llmq/core';
import { startRedisServer } from '@llmq/devkit';
import { inParallel, runIfMain, startBenchStack, startRawWorkers, submitJob, type BenchRow } from './bench-kit.js';
import { PrometheusMetrics } from '../tests/support/prometheus-text.js';

const JOBS = Number(process.env.BENCH_JOBS ?? 3000);
const QUEUED = Number(process.env.BENCH_QUEUED ?? 1000);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 2);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
const SUBMITTERS = Number(process.env.BENCH_SUBMITTERS ?? 32);
/** Clock ticks a second of /proc/<pid>/stat's utime and stime (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** CPU seconds a process has used so far, from /proc/<pid>/stat (utime + stime). */
async function processCpuSeconds(pid: number | undefined): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

const selfCpuSeconds = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
};

/** Redis's view: CPU seconds, calls by command, memory in use. */
async function redisSnapshot(redis: Redis) {
  const info = await redis.info('all');
  const field = (name: string) => Number(new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]);
  const calls = new Map<string, number>();
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls.set(match[1] ?? '', Number(match[2]));
  return { cpu: field('used_cpu_user') + field('used_cpu_sys'), calls, memory: field('used_memory') };
}
type RedisSnapshot = Awaited<ReturnType<typeof redisSnapshot>>;

/** Calls by command between two snapshots, leaving out the measuring itself (`info`). */
function commandsBetween(before: RedisSnapshot, after: RedisSnapshot, extra: Record<string, number>) {
  const calls = new Map<string, number>();
  for (const [command, count] of after.calls) {
    const made = count - (before.calls.get(command) ?? 0) - (extra[command] ?? 0);
    if (command !== 'info' && made > 0) calls.set(command, made);
  }
  return calls;
}

/** Redis's figures of a run: commands (less the run's own polls) and bytes per finished and queued job. */
function redisFigures(run: {
  before: RedisSnapshot;
  after: RedisSnapshot;
  queuedBefore: RedisSnapshot;
  queuedAfter: RedisSnapshot;
  /** ZCARDs the run made itself, waiting for the jobs to end. */
  polls: number;
}) {
  return {
    commands: commandsBetween(run.before, run.after, { zcard: run.polls }),
    finishedBytesPerJob: (run.after.memory - run.before.memory) / JOBS,
    queuedBytesPerJob: (run.queuedAfter.memory - run.queuedBefore.memory) / QUEUED,
  };
}

interface ProcessCost {
  name: string;
  cpuMsPerJob: number;
  eventLoop?: { p99Ms: number; maxMs: number };
}

interface RunCost {
  processes: ProcessCost[];
  commands: Map<string, number>;
  finishedBytesPerJob: number;
  queuedBytesPerJob: number;
  seconds: number;
  /** Bytes of one job's object as GET /v1/jobs/{id} answers it (llmq only). */
  jobObjectBytes?: number;
  /** MEMORY USAGE of one finished job's record and of its BullMQ entry (llmq only). */
  finishedKeys?: { record: number; bullmq: number };
}

const perJob = (seconds: number) => (seconds * 1000) / JOBS;

/** Polls `check` every 20 ms, counting the Redis commands it makes, until it holds. */
async function until(check: () => Promise<boolean>, polls: { count: number }): Promise<void> {
  const deadline = Date.now() + 600_000;
  while (!(await check())) {
    polls.count += 1;
    if (Date.now() > deadline) throw new Error('benchmark timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  polls.count += 1;
}

async function eventLoopOf(metricsUrl: string) {
  const metrics = new PrometheusMetrics(await (await fetch(metricsUrl)).text());
  return {
    p99Ms: metrics.value('nodejs_eventloop_lag_p99_seconds', {}) * 1000,
    maxMs: metrics.value('nodejs_eventloop_lag_max_seconds', {}) * 1000,
  };
}

async function llmqRun(redisUrl: string): Promise<RunCost> {
  const stack = await startBenchStack(redisUrl, { workers: WORKERS, concurrency: CONCURRENCY });
  const redis = new Redis(redisUrl);
  const key = stack.keys.alpha ?? '';
  const body = (index: number) => ({
    type: 'chat',
    request: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: `cost ${index}` }], max_tokens: 16 },
  });
  try {
    // A few jobs first, so that no process pays its first-call costs inside the measured run.
    await Promise.all(Array.from({ length: 20 }, (_, index) => submitJob(stack.apiUrl, key, body(-index - 1))));
    await until(async () => (await redis.zcard('llmq:{t:alpha}:jobs:succeeded')) >= 20, { count: 0 });
    const metricsUrls = [`${stack.apiUrl}/metrics`, ...stack.workerMetricsUrls];
    // Reading a process's metrics starts its event-loop histogram over.
    await Promise.all(metricsUrls.map(eventLoopOf));
    const pids = {
      api: stack.api.process.pid,
      simulator: stack.simulator.process.pid,
      workers: stack.workers.map((worker) => worker.process.pid),
    };
    const cpu = async () => ({
      api: await processCpuSeconds(pids.api),
      simulator: await processCpuSeconds(pids.simulator),
      workers: await Promise.all(pids.workers.map(processCpuSeconds)),
      self: selfCpuSeconds(),
    });
    const polls = { count: 0 };
    const redisBefore = await redisSnapshot(redis);
    const cpuBefore = await cpu();
    const started = performance.now();
    let sampleId = '';
    await inParallel(JOBS, SUBMITTERS, async (index) => {
      const id = await submitJob(stack.apiUrl, key, body(index));
      if (index === 0) sampleId = id;
    });
    await until(async () => (await redis.zcard('llmq:{t:alpha}:jobs:succeeded')) >= JOBS + 20, polls);
    const seconds = (performance.now() - started) / 1000;
    const cpuAfter = await cpu();
    const redisAfter = await redisSnapshot(redis);
    const loops = await Promise.all(metricsUrls.map(eventLoopOf));
    const jobObject = await (
      await fetch(`${stack.apiUrl}/v1/jobs/${sampleId}`, { headers: { authorization: `Bearer ${key}` } })
    ).text();
    // Where a finished job's bytes are: its record, its BullMQ entry, and the rest (indexes, streams).
    const usage = async (name: string) => Number((await redis.call('MEMORY', 'USAGE', name)) ?? 0);
    const finishedKeys = {
      record: await usage(jobRecordKey('alpha', sampleId)),
      bullmq: await usage(`${QUEUE_PREFIX}:${LLM_QUEUE_NAME}:${sampleId}`),
    };

    // Jobs that wait: no worker takes them while they are counted.
    await Promise.all(stack.workers.map((worker) => worker.stop()));
    const queuedBefore = await redisSnapshot(redis);
    await inParallel(QUEUED, SUBMITTERS, async (index) => {
      await submitJob(stack.apiUrl, key, body(JOBS + index));
    });
    const queuedAfter = await redisSnapshot(redis);

    return {
      processes: [
        { name: 'API', cpuMsPerJob: perJob(cpuAfter.api - cpuBefore.api), eventLoop: loops[0] },
        ...cpuAfter.workers.map((after, index) => ({
          name: `worker ${index + 1}`,
          cpuMsPerJob: perJob(after - (cpuBefore.workers[index] ?? 0)),
          eventLoop: loops[index + 1],
        })),
        { name: 'simulator', cpuMsPerJob: perJob(cpuAfter.simulator - cpuBefore.simulator) },
        { name: 'Redis', cpuMsPerJob: perJob(redisAfter.cpu - redisBefore.cpu) },
        { name: 'load generator', cpuMsPerJob: perJob(cpuAfter.self - cpuBefore.self) },
      ],
      ...redisFigures({ before: redisBefore, after: redisAfter, queuedBefore, queuedAfter, polls: polls.count }),
      seconds,
      jobObjectBytes: Buffer.byteLength(jobObject),
      finishedKeys,
    };
  } finally {
    await redis.quit();
    await stack.stop();
  }
}

async function rawRun(redisUrl: string): Promise<RunCost> {
  const workers = await startRawWorkers(redisUrl, { workers: WORKERS, concurrency: CONCURRENCY });
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const redis = new Redis(redisUrl);
  const queue = new Queue('raw-baseline', { connection, prefix: '{bench}' });
  try {
    await Promise.all(Array.from({ length: 20 }, (_, index) => queue.add('noop', { index: -index - 1 })));
    await until(async () => (await queue.getCompletedCount()) >= 20, { count: 0 });
    const cpu = async () => ({
      workers: await Promise.all(workers.map((worker) => processCpuSeconds(worker.process.pid))),
      self: selfCpuSeconds(),
    });
    const polls = { count: 0 };
    const redisBefore = await redisSnapshot(redis);
    const cpuBefore = await cpu();
    const started = performance.now();
    await inParallel(JOBS, SUBMITTERS, async (index) => {
      await queue.add('noop', { index });
    });
    // getCompletedCount is one ZCARD.
    await until(async () => (await queue.getCompletedCount()) >= JOBS + 20, polls);
    const seconds = (performance.now() - started) / 1000;
    const cpuAfter = await cpu();
    const redisAfter = await redisSnapshot(redis);

    await Promise.all(workers.map((worker) => worker.stop()));
    const queuedBefore = await redisSnapshot(redis);
    await inParallel(QUEUED, SUBMITTERS, async (index) => {
      await queue.add('noop', { index: JOBS + index });
    });
    const queuedAfter = await redisSnapshot(redis);
    await queue.obliterate({ force: true });
    return {
      processes: [
        ...cpuAfter.workers.map((after, index) => ({
          name: `raw worker ${index + 1}`,
          cpuMsPerJob: perJob(after - (cpuBefore.workers[index] ?? 0)),
        })),
        { name: 'Redis', cpuMsPerJob: perJob(redisAfter.cpu - redisBefore.cpu) },
        { name: 'producer (this process)', cpuMsPerJob: perJob(cpuAfter.self - cpuBefore.self) },
      ],
      ...redisFigures({ before: redisBefore, after: redisAfter, queuedBefore, queuedAfter, polls: polls.count }),
      seconds,
    };
  } finally {
    await queue.close();
    await connection.quit();
    await redis.quit();
    await Promise.all(workers.map((worker) => worker.stop()));
  }
}

const total = (commands: Map<string, number>) => [...commands.values()].reduce((sum, count) => sum + count, 0);
const fixed = (value: number, digits = 2) => value.toFixed(digits);

function printTables(llmq: RunCost, raw: RunCost): void {
  console.log(
    `\nCPU per job (ms), ${JOBS} jobs each; llmq ${fixed(llmq.seconds, 1)} s, raw BullMQ ${fixed(raw.seconds, 1)} s`,
  );
  console.log('| process | CPU ms per job | event loop p99 / max (ms) |');
  console.log('| --- | --- | --- |');
  for (const row of llmq.processes) {
    const loop = row.eventLoop ? `${fixed(row.eventLoop.p99Ms, 1)} / ${fixed(row.eventLoop.maxMs, 1)}` : '';
    console.log(`| llmq ${row.name} | ${fixed(row.cpuMsPerJob)} | ${loop} |`);
  }
  for (const row of raw.processes) console.log(`| raw BullMQ ${row.name} | ${fixed(row.cpuMsPerJob)} | |`);
  const shown = Number(process.env.BENCH_TOP_COMMANDS ?? 12);
  console.log(
    `\nRedis commands per job, by command, those run inside Lua scripts included (the ${shown} most called in the llmq run)`,
  );
  console.log('| command | llmq | raw BullMQ |');
  console.log('| --- | --- | --- |');
  const top = [...llmq.commands.entries()].sort((left, right) => right[1] - left[1]).slice(0, shown);
  for (const [command, count] of top) {
    console.log(`| ${command} | ${fixed(count / JOBS)} | ${fixed((raw.commands.get(command) ?? 0) / JOBS)} |`);
  }
  console.log(`| all | ${fixed(total(llmq.commands) / JOBS)} | ${fixed(total(raw.commands) / JOBS)} |`);
  console.log('\nRedis bytes per job');
  console.log('| | llmq | raw BullMQ |');
  console.log('| --- | --- | --- |');
  console.log(`| finished job | ${fixed(llmq.finishedBytesPerJob, 0)} | ${fixed(raw.finishedBytesPerJob, 0)} |`);
  console.log(`| queued job | ${fixed(llmq.queuedBytesPerJob, 0)} | ${fixed(raw.queuedBytesPerJob, 0)} |`);
  console.log(`| the job object (GET /v1/jobs/{id}) | ${llmq.jobObjectBytes ?? ''} | |`);
  if (llmq.finishedKeys) {
    console.log(`| one finished job's record (MEMORY USAGE) | ${llmq.finishedKeys.record} | |`);
    console.log(`| one finished job's BullMQ entry (MEMORY USAGE) | ${llmq.finishedKeys.bullmq} | |`);
  }
}

export async function jobCostBenchmark(): Promise<BenchRow[]> {
  const redisServer = await startRedisServer({ dir: await mkdtemp(join(tmpdir(), 'llmq-bench-cost-')) });
  try {
    // BENCH_REDIS_CONFIG="name value ..." sets Redis settings first (to measure their effect).
    const settings = (process.env.BENCH_REDIS_CONFIG ?? '').split(' ').filter((word) => word !== '');
    if (settings.length > 0) {
      const admin = new Redis(redisServer.url);
      await admin.call('CONFIG', 'SET', ...settings);
      await admin.quit();
    }
    const raw = await rawRun(redisServer.url);
    const flush = new Redis(redisServer.url);
    await flush.flushall();
    await flush.quit();
    const llmq = await llmqRun(redisServer.url);
    const jobObjectBytes = llmq.jobObjectBytes ?? Number.NaN;
    printTables(llmq, raw);
    const cpuOf = (run: RunCost, names: RegExp) =>
      run.processes.filter((row) => names.test(row.name)).reduce((sum, row) => sum + row.cpuMsPerJob, 0);
    const llmqCpu = cpuOf(llmq, /^(API|worker)/);
    const rawCpu = cpuOf(raw, /^(raw worker|producer)/);
    const llmqCommands = total(llmq.commands) / JOBS;
    const rawCommands = total(raw.commands) / JOBS;
    const bytesRatio = llmq.finishedBytesPerJob / jobObjectBytes;
    return [
      {
        benchmark: `job cost: llmq's own CPU per job (API + ${WORKERS} workers), ${JOBS} chat jobs`,
        figure: `${fixed(llmqCpu)} ms`,
        baseline: `${fixed(rawCpu)} ms (raw BullMQ producer + workers, no-op jobs)`,
        ratio: fixed(llmqCpu / rawCpu),
        target: '<= 4',
        met: llmqCpu / rawCpu <= 4,
      },
      {
        benchmark: 'job cost: Redis commands per job',
        figure: fixed(llmqCommands),
        baseline: `${fixed(rawCommands)} (raw BullMQ)`,
        ratio: fixed(llmqCommands / rawCommands),
        target: '<= 2',
        met: llmqCommands / rawCommands <= 2,
      },
      {
        benchmark: 'job cost: Redis bytes per finished job',
        figure: `${fixed(llmq.finishedBytesPerJob, 0)} B`,
        baseline: `${jobObjectBytes} B (its job object)`,
        ratio: fixed(bytesRatio),
        target: '<= 1.5',
        met: bytesRatio <= 1.5,
      },
    ];
  } finally {
    await redisServer.stop();
  }
}

runIfMain(import.meta.url, jobCostBenchmark);
