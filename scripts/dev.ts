/**
 * The local stack behind `npm start`: a private redis-server unless REDIS_URL is set, the provider
 * simulator unless a provider key is set, then the API and one worker. Ctrl-C stops everything.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, startAppProcess, startRedisServer, type AppProcess } from '@llmq/devkit';

const root = new URL('..', import.meta.url).pathname;
const stateDir = join(root, '.llmq');
mkdirSync(stateDir, { recursive: true });

const stops: Array<() => Promise<unknown>> = [];
const print = (line = '') => process.stdout.write(`${line}\n`);
const relay = (name: string) => (line: string) => {
  if (process.env.LLMQ_DEV_QUIET !== '1') process.stdout.write(`[${name}] ${line}\n`);
};

function demoApiKeys(): string {
  if (process.env.LLMQ_API_KEYS) return process.env.LLMQ_API_KEYS;
  const file = join(stateDir, 'dev-api-keys');
  if (!existsSync(file)) writeFileSync(file, `demo:llmq-demo-${randomBytes(12).toString('hex')}\n`, { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}

/** The dashboard's admin token: LLMQ_ADMIN_TOKEN, or one kept in .llmq/dev-admin-token. */
function demoAdminToken(): string {
  if (process.env.LLMQ_ADMIN_TOKEN) return process.env.LLMQ_ADMIN_TOKEN;
  const file = join(stateDir, 'dev-admin-token');
  if (!existsSync(file)) writeFileSync(file, `llmq-admin-${randomBytes(16).toString('hex')}\n`, { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}

/**
 * Webhooks to loopback addresses are refused unless the config allows them; the demo's receivers
 * run on this machine, so without a config of the user's own, write one that allows them.
 */
function devConfigFile(): string {
  const file = join(stateDir, 'dev-config.yaml');
  writeFileSync(
    file,
    [
      '# Written by `npm start` when LLMQ_CONFIG is unset: lets webhooks reach receivers on this machine.',
      'webhooks:',
      '  allow_hosts: [localhost]',
      '  allow_cidrs: ["127.0.0.0/8", "::1/128"]',
      '',
    ].join('\n'),
  );
  return file;
}

async function main(): Promise<void> {
  const env: Record<string, string | undefined> = {
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
    LLMQ_CONFIG: process.env.LLMQ_CONFIG || devConfigFile(),
  };

  if (process.env.REDIS_URL) {
    env.REDIS_URL = process.env.REDIS_URL;
  } else {
    const redis = await startRedisServer({ dir: join(stateDir, 'redis'), appendOnly: true });
    stops.push(() => redis.stop());
    env.REDIS_URL = redis.url;
    print(`redis      ${redis.url} (private, data in .llmq/redis)`);
  }

  const hasProviderKey = ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'GEMINI_API_KEY'].some((name) => process.env[name]);
  if (!hasProviderKey) {
    const port = await freePort();
    const simulator = await startAppProcess({
      name: 'simulator',
      entry: join(root, 'apps/simulator/src/main.ts'),
      env: { SIM_PORT: String(port), SIM_LATENCY_MS: process.env.SIM_LATENCY_MS ?? '300' },
      readyWhen: 'listening',
      onLine: relay('simulator'),
    });
    stops.push(() => simulator.stop());
    const simulatorUrl = `http://127.0.0.1:${port}`;
    Object.assign(env, {
      OPENAI_BASE_URL: `${simulatorUrl}/v1`,
      OPENAI_API_KEY: 'sk-simulator',
      ANTHROPIC_BASE_URL: simulatorUrl,
      ANTHROPIC_API_KEY: 'sk-ant-simulator',
      GEMINI_BASE_URL: simulatorUrl,
      GEMINI_API_KEY: 'gemini-simulator',
    });
    print(
      `simulator  ${simulatorUrl} (no provider key set: openai/*, anthropic/* and google/* answer from the simulator)`,
    );
  }

  const apiKeys = demoApiKeys();
  const adminToken = demoAdminToken();
  const port = Number(process.env.PORT ?? 8080);
  const processes: AppProcess[] = [];
  processes.push(
    await startAppProcess({
      name: 'api',
      entry: join(root, 'apps/api/src/main.ts'),
      env: {
        ...env,
        PORT: String(port),
        HOST: process.env.HOST ?? '127.0.0.1',
        LLMQ_API_KEYS: apiKeys,
        LLMQ_ADMIN_TOKEN: adminToken,
      },
      readyWhen: 'api listening',
      onLine: relay('api'),
    }),
  );
  processes.push(
    await startAppProcess({
      name: 'worker',
      entry: join(root, 'apps/worker/src/main.ts'),
      env,
      readyWhen: 'worker ready',
      onLine: relay('worker'),
    }),
  );
  for (const app of processes) stops.unshift(() => app.stop());

  const key = apiKeys.split(',')[0]?.split(':').slice(1).join(':') ?? '';
  const url = `http://127.0.0.1:${port}`;
  print();
  print(`llmq is running: ${url}`);
  print(`API key:    ${key}`);
  print();
  print('Submit a job, then wait up to 30 s for its result:');
  print(`  curl -s ${url}/v1/jobs -H 'Authorization: Bearer ${key}' -H 'Content-Type: application/json' \\`);
  print(
    `    -d '{"type":"chat","request":{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"Hello!"}]}}'`,
  );
  print(`  curl -s '${url}/v1/jobs/<id>?wait=30' -H 'Authorization: Bearer ${key}'`);
  print();
  print(
    process.env.LLMQ_CONFIG
      ? `Webhooks follow the "webhooks" section of ${process.env.LLMQ_CONFIG}; the signing secret:`
      : 'Webhooks may go to receivers on this machine (.llmq/dev-config.yaml); the signing secret:',
  );
  print(`  curl -s ${url}/v1/webhook-secret -H 'Authorization: Bearer ${key}'`);
  print();
  print(`Dashboard:  ${url}/admin/queues (admin token: ${adminToken})`);
  print(
    `Metrics:    ${url}/metrics (API, queues) and http://127.0.0.1:${process.env.WORKER_METRICS_PORT ?? '9464'}/metrics (worker)`,
  );
  print(`OpenAPI:    ${url}/openapi.json`);
  print();
  print('Ctrl-C stops everything.');
}

let stopping = false;
async function stopAll(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    for (const stop of stops) await stop().catch(() => undefined);
  }
  process.exit(code);
}

process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));
main().catch(async (error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  await stopAll(1);
});
