import { afterAll, describe, expect, it } from 'vitest';
import { startLlmqStack, type AppProcess, type Stack } from '@llmq/devkit';
import { startCallCountingProxy, type CallCountingProxy } from './call-counting-proxy.js';
import { attributeExtraCalls, type WorkerKill } from './kill-attribution.js';
import {
  chaosClient,
  chatJob,
  ANY_METRICS_PORT,
  FAST_STALLS,
  printSummary,
  QUIET,
  simulatorCalls,
  sleep,
} from './chaos-support.js';

const JOBS = 5_000;
const WORKERS = 3;
const CONCURRENCY = 16;
const KILL_EVERY_MS = 5_000;
/** How long after its answer arrived a call's result may still be unstored in a worker that dies. */
const RECORDING_WINDOW_MS = 2_000;

interface Incarnation {
  worker: AppProcess;
  proxy: CallCountingProxy;
}

let stack: Stack | undefined;
const proxies: CallCountingProxy[] = [];

afterAll(async () => {
  await stack?.stop();
  await Promise.all(proxies.map((proxy) => proxy.close()));
});

// Policy: every 5 s the oldest living worker gets SIGKILL and a new one starts at once, so three
// run again within the second or two a start takes; each process calls the simulator through its
// own proxy, which says what that process had in flight when it died.
describe('chaos: workers killed while 5,000 jobs run', () => {
  it('loses nothing; calls made twice stay within what the killed workers held', async () => {
    stack = await startLlmqStack({
      workers: 0,
      workerEnv: { ...FAST_STALLS, ...QUIET, ...ANY_METRICS_PORT, WORKER_CONCURRENCY: String(CONCURRENCY) },
      apiEnv: QUIET,
      simulatorEnv: { SIM_LATENCY_MS: '100', SIM_JITTER_MS: '200' },
    });
    const running = stack;
    const living: Incarnation[] = [];
    const startWorker = async () => {
      const proxy = await startCallCountingProxy(running.simulatorUrl);
      proxies.push(proxy);
      const worker = await running.addWorker({ OPENAI_BASE_URL: `${proxy.url}/v1` });
      living.push({ worker, proxy });
    };
    await Promise.all(Array.from({ length: WORKERS }, startWorker));

    const client = chaosClient(running);
    const startedAt = Date.now();
    const ids = await client.submitAll(Array.from({ length: JOBS }, (_, index) => chatJob(index)));
    const submitMs = Date.now() - startedAt;

    const kills: WorkerKill[] = [];
    const restarts: Array<Promise<void>> = [];
    let settled = false;
    const killer = (async () => {
      for (await sleep(KILL_EVERY_MS); !settled; await sleep(KILL_EVERY_MS)) {
        const victim = living.shift();
        if (victim === undefined) continue;
        const openAtKill = victim.proxy.open();
        kills.push({ at: Date.now(), proxy: victim.proxy, openAtKill });
        victim.worker.process.kill('SIGKILL');
        // The replacement starts in the background so the next kill keeps to the 5 s beat.
        restarts.push(startWorker());
      }
    })();
    const views = await client.settleAll(ids, { deadlineMs: 240_000 });
    settled = true;
    await killer;
    await Promise.all(restarts);
    const elapsedMs = Date.now() - startedAt;

    const jobs = [...views.values()];
    const succeeded = jobs.filter((job) => job?.status === 'succeeded').length;
    const failed = jobs.filter((job) => job?.status === 'failed').length;
    const duplicated = (await simulatorCalls(running)) - JOBS;
    const attribution = attributeExtraCalls(proxies, kills, RECORDING_WINDOW_MS);
    const retaken = jobs.filter((job) => (job?.attempts ?? 0) > 1).length;
    printSummary(
      'worker-kills',
      { jobs: JOBS, lost: JOBS - succeeded, duplicated, failed },
      `${kills.length} SIGKILLs every ${KILL_EVERY_MS / 1000} s, oldest worker first, replaced at once; ` +
        `duplicates per kill ${attribution.perKill.join('/')} <= concurrency ${CONCURRENCY} each ` +
        `(sum bound ${kills.length * CONCURRENCY}); open at the provider at each kill ${kills.map((kill) => kill.openAtKill).join('/')}; ` +
        `unexplained ${attribution.unexplained.length}; jobs with attempts>1: ${retaken}; ` +
        `submitted in ${submitMs} ms, all ended after ${elapsedMs} ms`,
    );

    expect(kills.length).toBeGreaterThanOrEqual(3);
    expect(succeeded).toBe(JOBS);
    // The proxies saw every call the simulator counted, so the attribution covers them all.
    expect(attribution.extraCalls).toBe(duplicated);
    expect(attribution.unexplained).toEqual([]);
    for (const extra of attribution.perKill) expect(extra).toBeLessThanOrEqual(CONCURRENCY);
    expect(duplicated).toBeLessThanOrEqual(kills.length * CONCURRENCY);
  }, 300_000);
});
