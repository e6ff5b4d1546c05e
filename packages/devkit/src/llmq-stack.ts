import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { startAppProcess, type AppProcess } from './app-process.js';
import { startRedisCluster, type RunningRedisCluster } from './redis-cluster.js';
import { removeDir, startRedisServer, type RunningRedis } from './redis-server.js';

const repositoryRoot = new URL('../../../', import.meta.url).pathname;
/**
 * An app's entry: its TypeScript source (run with tsx), or its build when `LLMQ_APPS=dist`, as
 * `npm test` sets after building (half the CPU per process start: no compile in a loader thread).
 */
export const appEntry = (app: 'api' | 'worker' | 'simulator') =>
  process.env.LLMQ_APPS === 'dist'
    ? join(repositoryRoot, 'apps', app, 'dist', 'main.js')
    : join(repositoryRoot, 'apps', app, 'src', 'main.ts');

export interface StackOptions {
  /** Worker processes. Default: 1. */
  workers?: number;
  /** Extra environment of every worker (e.g. WORKER_CONCURRENCY). */
  workerEnv?: Record<string, string>;
  apiEnv?: Record<string, string>;
  simulatorEnv?: Record<string, string>;
  /** `LLMQ_CONFIG` contents (YAML/JSON); `{simulator}` is replaced by the simulator's URL. */
  config?: string;
  /** Use this Redis instead of a private one. */
  redisUrl?: string;
  /**
   * Run on a private Redis Cluster (3 masters, 3 replicas) instead of one node. Default: the
   * `LLMQ_TEST_REDIS` environment variable is `cluster`.
   */
  redisCluster?: boolean;
  /** Lines of every process go here too (for debugging a failing test). */
  onLine?: (line: string) => void;
  /** Extra Node.js flags for worker processes (profiling). */
  workerNodeArgs?: string[];
  /** Keep the processes' lines after they are ready. Default true. */
  keepLines?: boolean;
}

export interface Stack {
  apiUrl: string;
  simulatorUrl: string;
  redisUrl: string;
  redis: RunningRedis | undefined;
  /** The private cluster, when the stack runs on one. */
  cluster: RunningRedisCluster | undefined;
  api: AppProcess;
  workers: AppProcess[];
  /** `http://127.0.0.1:<port>/metrics` of each worker, in the order of `workers`. */
  workerMetricsUrls: string[];
  simulator: AppProcess;
  /** `tenant -> key` of the keys the API accepts. */
  keys: Record<string, string>;
  /** Starts one more worker process with the stack's environment. */
  addWorker(env?: Record<string, string>): Promise<AppProcess>;
  stop(): Promise<void>;
}

/** How long `Stack.stop()` lets each process shut down on SIGTERM before it sends SIGKILL, ms. */
export const TEARDOWN_GRACE_MS = 5_000;

export const STACK_KEYS = { alpha: 'alpha-key-0123456789abcdef', beta: 'beta-key-0123456789abcdef' };

/** Redis, the simulator, the API and workers, each a real process, wired together on loopback. */
export async function startLlmqStack(options: StackOptions = {}): Promise<Stack> {
  const dir = await mkdtemp(join(tmpdir(), 'llmq-stack-'));
  const onCluster = options.redisCluster ?? process.env.LLMQ_TEST_REDIS === 'cluster';
  const cluster =
    options.redisUrl || !onCluster ? undefined : await startRedisCluster({ dir: join(dir, 'redis-cluster') });
  const redis = options.redisUrl || cluster ? undefined : await startRedisServer({ dir: join(dir, 'redis') });
  const redisUrl = options.redisUrl ?? cluster?.url ?? redis?.url ?? '';
  const onLine = options.onLine;

  const simulatorPort = await freePort();
  const simulatorUrl = `http://127.0.0.1:${simulatorPort}`;
  const simulator = await startAppProcess({
    name: 'simulator',
    entry: appEntry('simulator'),
    env: { SIM_PORT: String(simulatorPort), ...options.simulatorEnv },
    readyWhen: 'listening',
    ...(onLine ? { onLine } : {}),
    keepLines: options.keepLines ?? true,
  });

  const configPath = join(dir, 'llmq.yaml');
  await writeFile(configPath, (options.config ?? '').replaceAll('{simulator}', simulatorUrl));
  const common = {
    REDIS_URL: redisUrl,
    LLMQ_CONFIG: configPath,
    OPENAI_API_KEY: 'sk-simulator-key',
    OPENAI_BASE_URL: `${simulatorUrl}/v1`,
    ANTHROPIC_API_KEY: 'sk-ant-simulator-key',
    ANTHROPIC_BASE_URL: simulatorUrl,
    GEMINI_API_KEY: 'gemini-simulator-key',
    GEMINI_BASE_URL: simulatorUrl,
    LOG_LEVEL: 'info',
  };

  const apiPort = await freePort();
  const api = await startAppProcess({
    name: 'api',
    entry: appEntry('api'),
    env: {
      ...common,
      PORT: String(apiPort),
      HOST: '127.0.0.1',
      LLMQ_API_KEYS: Object.entries(STACK_KEYS)
        .map(([tenant, key]) => `${tenant}:${key}`)
        .join(','),
      ...options.apiEnv,
    },
    readyWhen: 'api listening',
    ...(onLine ? { onLine } : {}),
    keepLines: options.keepLines ?? true,
  });

  const workers: AppProcess[] = [];
  const workerMetricsUrls: string[] = [];
  /** Workers asked for so far: names are taken when a start begins, so concurrent starts differ. */
  let workersStarted = 0;
  const addWorker = async (env: Record<string, string> = {}) => {
    workersStarted += 1;
    const name = `worker-${workersStarted}`;
    // Workers share this machine: each gets a metrics port of its own.
    const metricsPort = await freePort();
    const worker = await startAppProcess({
      name,
      entry: appEntry('worker'),
      env: { ...common, WORKER_METRICS_PORT: String(metricsPort), ...options.workerEnv, ...env },
      ...(options.workerNodeArgs ? { nodeArgs: options.workerNodeArgs } : {}),
      readyWhen: 'worker ready',
      ...(onLine ? { onLine } : {}),
      keepLines: options.keepLines ?? true,
    });
    workers.push(worker);
    workerMetricsUrls.push(`http://127.0.0.1:${metricsPort}/metrics`);
    return worker;
  };
  await Promise.all(Array.from({ length: options.workers ?? 1 }, () => addWorker()));

  return {
    apiUrl: `http://127.0.0.1:${apiPort}`,
    simulatorUrl,
    redisUrl,
    redis,
    cluster,
    api,
    workers,
    workerMetricsUrls,
    simulator,
    keys: { ...STACK_KEYS },
    addWorker,
    stop: async () => {
      // Teardown, not a drain test: a call held open (a `hold` fault, a hanging stream) would keep
      // SIGTERM waiting out the whole shutdown grace (60 s), so whatever is left after that is killed.
      const stopAll = (processes: AppProcess[]) =>
        Promise.all(processes.map((running) => running.stop('SIGTERM', { killAfterMs: TEARDOWN_GRACE_MS })));
      await stopAll([api, ...workers]);
      await stopAll([simulator]);
      await redis?.stop();
      await cluster?.stop();
      await removeDir(dir);
    },
  };
}
