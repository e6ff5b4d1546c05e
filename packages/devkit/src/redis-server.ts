import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePort } from './free-port.js';

export interface RedisServerOptions {
  /** Working directory for the AOF/RDB files; created if missing. */
  dir: string;
  /** Default: a free port. */
  port?: number;
  /** `appendonly yes` with fsync every second. Default: false (tests need no durability). */
  appendOnly?: boolean;
  /** Binary to run. Default: `redis-server` on PATH. */
  binary?: string;
}

export interface RunningRedis {
  url: string;
  port: number;
  process: ChildProcess;
  /** SIGTERM and wait for exit. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash would. */
  kill(): Promise<void>;
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`redis-server did not listen on ${port} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Starts a private redis-server on loopback with the settings llmq expects (noeviction, compact hashes). */
export async function startRedisServer(options: RedisServerOptions): Promise<RunningRedis> {
  const port = options.port ?? (await freePort());
  await mkdir(options.dir, { recursive: true });
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    options.dir,
    '--save',
    '',
    '--appendonly',
    options.appendOnly ? 'yes' : 'no',
    '--appendfsync',
    'everysec',
    '--maxmemory-policy',
    'noeviction',
    // Job records and BullMQ entries hold JSON values of a few hundred bytes: kept as listpacks
    // up to 8 KiB a value they take about half the memory (see "Redis in production").
    '--hash-max-listpack-value',
    '8192',
    '--daemonize',
    'no',
    '--loglevel',
    'warning',
  ];
  const child = spawn(options.binary ?? 'redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let failure = '';
  child.stderr?.on('data', (chunk: Buffer) => (failure += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const spawnError = new Promise<never>((_resolve, reject) => {
    child.once('error', (error) =>
      reject(new Error(`cannot start redis-server (${error.message}); install it: apt-get install -y redis-server`)),
    );
  });
  await Promise.race([waitForPort(port, 10_000), spawnError]).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error instanceof Error ? new Error(`${error.message} ${failure}`.trim()) : error;
  });
  const stopWith = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    process: child,
    stop: () => stopWith('SIGTERM'),
    kill: () => stopWith('SIGKILL'),
  };
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

export const redisDataDir = (root: string, name: string) => join(root, name);
