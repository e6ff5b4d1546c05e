import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { once } from 'node:events';

const require = createRequire(import.meta.url);

export interface AppProcessOptions {
  /** Path of the entry: TypeScript (run with tsx and the `llmq-source` export condition) or built JavaScript (run as is). */
  entry: string;
  env: Record<string, string | undefined>;
  /** A line of stdout that means ready; a substring. */
  readyWhen: string;
  /** Default: 60 s (a start on a loaded 2-core machine has taken over 20 s). */
  readyTimeoutMs?: number;
  /** Receives every output line (stdout and stderr). */
  onLine?: (line: string) => void;
  name: string;
  /** Extra Node.js flags (e.g. `--cpu-prof`). */
  nodeArgs?: string[];
  /** Keep every line in `lines` after ready. Default true; benchmarks turn it off to stay out of the way. */
  keepLines?: boolean;
}

export interface AppProcess {
  name: string;
  process: ChildProcess;
  /** Every line printed so far. */
  lines: string[];
  /**
   * Sends `signal` (default SIGTERM) and resolves with the exit code once the process exits; with
   * `killAfterMs`, a process still running that long after the signal gets SIGKILL.
   */
  stop(signal?: NodeJS.Signals, options?: { killAfterMs?: number }): Promise<number | null>;
}

/** The tsx loader, resolved from this workspace so a child process finds it wherever it runs. */
export const tsxLoader = () => require.resolve('tsx');

/** Runs one of llmq's apps as a real child process and waits until it says it is ready. */
export async function startAppProcess(options: AppProcessOptions): Promise<AppProcess> {
  const child = spawn(
    process.execPath,
    [
      ...(options.nodeArgs ?? []),
      ...(options.entry.endsWith('.ts') ? ['--conditions=llmq-source', '--import', tsxLoader()] : []),
      options.entry,
    ],
    {
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const lines: string[] = [];
  let ready: (() => void) | undefined;
  const readyPromise = new Promise<void>((resolve) => (ready = resolve));
  let isReady = false;
  const onData = (chunk: Buffer) => {
    if (isReady && options.keepLines === false && options.onLine === undefined) return;
    for (const line of chunk.toString().split('\n')) {
      if (line === '') continue;
      lines.push(line);
      options.onLine?.(line);
      if (line.includes(options.readyWhen)) {
        isReady = true;
        ready?.();
      }
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exit = once(child, 'exit').then(([code]) => code as number | null);
  const timeoutMs = options.readyTimeoutMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    readyPromise.then(() => 'ready' as const),
    exit.then(() => 'exited' as const),
    new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs))),
  ]);
  clearTimeout(timer);
  if (outcome !== 'ready') {
    child.kill('SIGKILL');
    throw new Error(
      `${options.name} ${outcome === 'exited' ? 'exited' : 'was not ready'}:\n${lines.slice(-30).join('\n')}`,
    );
  }
  return {
    name: options.name,
    process: child,
    lines,
    stop: async (signal = 'SIGTERM', { killAfterMs } = {}) => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      if (killAfterMs === undefined) return exit;
      const killer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      try {
        return await exit;
      } finally {
        clearTimeout(killer);
      }
    },
  };
}
