import { readFile, mkdtemp, writeFile } from 'node:fs/promises';
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  appEntry,
  freePort,
  removeDir,
  startAppProcess,
  startRedisServer,
  STACK_KEYS,
  type AppProcess,
  type RunningRedis,
} from '@llmq/devkit';

/** Largest body the fuzzed API accepts; bigger ones must get a 413, not a crash. */
export const FUZZ_MAX_BODY_BYTES = 262_144;

export interface FuzzRequest {
  method: string;
  /** Path and query, already percent-encoded where needed (sent as is). */
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Read no body: close the connection once the headers are in (SSE). */
  headersOnly?: boolean;
}

export interface FuzzResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

export interface FuzzTarget {
  baseUrl: string;
  api: AppProcess;
  send(request: FuzzRequest): Promise<FuzzResponse>;
  /** Resident set size of the API process as it stands, bytes (Linux /proc). */
  rss(): Promise<number>;
  /** The API process's RSS and V8 heap in use right after a full garbage collection, bytes. */
  memoryAfterGc(): Promise<{ rss: number; heapUsed: number }>;
  stop(): Promise<void>;
}

/** A real API process on a private Redis: crashes and memory show as they would in production. */
export async function startFuzzTarget(options: { maxBodyBytes?: number } = {}): Promise<FuzzTarget> {
  const dir = await mkdtemp(join(tmpdir(), 'llmq-fuzz-'));
  const port = await freePort();
  let redis: RunningRedis | undefined;
  let api: AppProcess | undefined;
  try {
    redis = await startRedisServer({ dir: join(dir, 'redis') });
    const configPath = join(dir, 'llmq.yaml');
    await writeFile(configPath, 'webhooks:\n  allow_cidrs: ["127.0.0.2/32"]\n');
    api = await startAppProcess({
      name: 'api',
      entry: appEntry('api'),
      env: {
        REDIS_URL: redis.url,
        LLMQ_CONFIG: configPath,
        PORT: String(port),
        HOST: '127.0.0.1',
        LLMQ_API_KEYS: Object.entries(STACK_KEYS)
          .map(([tenant, key]) => `${tenant}:${key}`)
          .join(','),
        LLMQ_MAX_BODY_BYTES: String(options.maxBodyBytes ?? FUZZ_MAX_BODY_BYTES),
        LLMQ_ADMIN_TOKEN: 'admin-token-0123456789abcdef',
        // Errors only: a 5xx or an unhandled error is what the fuzz looks for in the log.
        LOG_LEVEL: 'error',
        NODE_OPTIONS: `--expose-gc --import ${new URL('./gc-on-signal.mjs', import.meta.url).pathname}`,
      },
      readyWhen: 'api listening',
    });
  } catch (error) {
    await redis?.stop();
    await removeDir(dir);
    throw error;
  }
  const running = api;
  const runningRedis = redis;
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const pid = running.process.pid ?? 0;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    api: running,
    send: (request) => send(agent, { host: '127.0.0.1', port }, request),
    rss: async () => {
      const status = await readFile(`/proc/${pid}/status`, 'utf8');
      const kilobytes = /VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1];
      return Number(kilobytes ?? 0) * 1024;
    },
    memoryAfterGc: async () => {
      const seen = running.lines.length;
      running.process.kill('SIGUSR2');
      for (let waited = 0; waited < 5_000; waited += 20) {
        const line = running.lines.slice(seen).find((text) => text.includes('"memoryAfterGc"'));
        if (line !== undefined)
          return (JSON.parse(line) as { memoryAfterGc: { rss: number; heapUsed: number } }).memoryAfterGc;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      throw new Error('the API did not report its memory');
    },
    stop: async () => {
      agent.destroy();
      await running.stop();
      await runningRedis.stop();
      await removeDir(dir);
    },
  };
}

function send(agent: Agent, base: { host: string; port: number }, request: FuzzRequest): Promise<FuzzResponse> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      { ...base, agent, method: request.method, path: request.path, headers: request.headers ?? {} },
      (response) => {
        const status = response.statusCode ?? 0;
        if (request.headersOnly && status === 200) {
          resolve({ status, headers: response.headers, text: '' });
          response.destroy();
          return;
        }
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status, headers: response.headers, text: Buffer.concat(chunks).toString('utf8') }),
        );
        response.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(request.body);
  });
}

/** Why a response breaks the contract, or null: no 5xx, every error in the one shape. */
export function contractProblem(response: FuzzResponse): string | null {
  if (response.status >= 500) return `answered ${response.status}: ${response.text.slice(0, 300)}`;
  if (response.status < 400) return null;
  if (!String(response.headers['content-type'] ?? '').startsWith('application/json')) {
    return `error ${response.status} is not JSON (${String(response.headers['content-type'])}): ${response.text.slice(0, 200)}`;
  }
  let body: unknown;
  try {
    body = JSON.parse(response.text);
  } catch {
    return `error ${response.status} body does not parse: ${response.text.slice(0, 200)}`;
  }
  const error = typeof body === 'object' && body !== null ? (body as Record<string, unknown>).error : undefined;
  const shapeOk =
    Object.keys(body as object).length === 1 &&
    typeof error === 'object' &&
    error !== null &&
    typeof (error as Record<string, unknown>).type === 'string' &&
    typeof (error as Record<string, unknown>).message === 'string';
  return shapeOk ? null : `error ${response.status} has another shape: ${response.text.slice(0, 200)}`;
}
