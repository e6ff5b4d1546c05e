import { pino, type Logger, type LoggerOptions } from 'pino';

/** Paths whose values never reach a log line: credentials in requests, configs and errors. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers["x-goog-api-key"]',
  'req.headers["idempotency-key"]',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'apiKey',
  'api_key',
  '*.apiKey',
  '*.api_key',
  'config.apiKeys',
  'secret',
  '*.secret',
];

export interface CreateLoggerOptions {
  /** Component name on every line (`api`, `worker`). */
  name: string;
  /** pino level. Default: `info`. */
  level?: string;
  /** Where lines go. Default: stdout. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(options: CreateLoggerOptions): Logger {
  const loggerOptions: LoggerOptions = {
    name: options.name,
    level: options.level ?? 'info',
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { pid: process.pid },
  };
  return options.destination ? pino(loggerOptions, options.destination) : pino(loggerOptions);
}

export type { Logger };

/**
 * Lines that say a process is up or going down: written at info whatever LOG_LEVEL is, so
 * supervisors and scripts can always see them.
 */
export function lifecycleLogger(logger: Logger): Logger {
  return logger.child({}, { level: 'info' });
}
