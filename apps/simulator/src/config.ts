import { z } from 'zod';
import { accountListSchema } from './accounts.js';
import type { RateLimits } from './rate-limiter.js';
import type { SimulatorOptions } from './simulator-options.js';

const optionalPositiveInt = z.coerce.number().int().min(1).optional();

/** JSON text parsed, or an issue saying it is not JSON; the list schema then checks the value. */
const jsonText = z.string().transform((text, context): unknown => {
  try {
    return JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    context.addIssue({ code: 'custom', message: `not valid JSON (${reason})` });
    return z.NEVER;
  }
});

/** The simulator's environment; every variable optional. */
const environmentSchema = z.object({
  /** Port to listen on. Default 4010. */
  SIM_PORT: z.coerce.number().int().min(0).max(65_535).default(4010),
  /** Interface to bind. Default 127.0.0.1 (local tool: not exposed by default). */
  SIM_HOST: z.string().min(1).default('127.0.0.1'),
  /** Latency before each successful answer, ms. Default 0. */
  SIM_LATENCY_MS: z.coerce.number().min(0).default(0),
  /** Extra random latency in [0, SIM_JITTER_MS), ms. Default 0. */
  SIM_JITTER_MS: z.coerce.number().min(0).default(0),
  /** Pause between streamed chunks, ms. Default 0. */
  SIM_CHUNK_DELAY_MS: z.coerce.number().min(0).default(0),
  /** Requests per minute across all models (the "*" limit). Default: unlimited. */
  SIM_RPM: optionalPositiveInt,
  /** Tokens per minute across all models (the "*" limit). Default: unlimited. */
  SIM_TPM: optionalPositiveInt,
  /** Time a batch takes from start to its last line, ms. Default 1000. */
  SIM_BATCH_PROCESSING_MS: z.coerce.number().min(0).optional(),
  /** A batch still running this long after creation ends expired, ms. Default 24 h. */
  SIM_BATCH_EXPIRY_MS: z.coerce.number().min(0).optional(),
  /** Comma-separated accepted API keys. Default: any non-empty key. */
  SIM_API_KEYS: z
    .string()
    .optional()
    .transform((value) =>
      value
        ?.split(',')
        .map((key) => key.trim())
        .filter((key) => key !== ''),
    ),
  /**
   * Provider accounts as a JSON array of `{"key", "org", "rpm"?, "tpm"?}`: only their keys are
   * accepted, one rate window per org, a prompt cache per key. Excludes SIM_API_KEYS.
   */
  SIM_ACCOUNTS: jsonText.pipe(accountListSchema).optional(),
});

export interface SimulatorConfig {
  port: number;
  host: string;
  options: SimulatorOptions;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Parses the environment once; throws `ConfigError` naming the first bad variable. */
export function loadConfig(environment: NodeJS.ProcessEnv): SimulatorConfig {
  // Empty strings mean "unset", as they do in docker-compose files.
  const present = Object.fromEntries(Object.entries(environment).filter(([, value]) => value !== ''));
  const parsed = environmentSchema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const variable = issue?.path.map(String).join('.') ?? 'environment';
    throw new ConfigError(`Invalid environment variable ${variable}: ${issue?.message ?? 'invalid value'}`);
  }
  const environmentValues = parsed.data;
  const accounts = environmentValues.SIM_ACCOUNTS;
  if (accounts !== undefined && environmentValues.SIM_API_KEYS !== undefined) {
    throw new ConfigError('SIM_ACCOUNTS and SIM_API_KEYS cannot both be set: SIM_ACCOUNTS lists the accepted keys');
  }
  const globalLimit = { rpm: environmentValues.SIM_RPM, tpm: environmentValues.SIM_TPM };
  const limits: RateLimits = globalLimit.rpm === undefined && globalLimit.tpm === undefined ? {} : { '*': globalLimit };
  const apiKeys = environmentValues.SIM_API_KEYS;
  return {
    port: environmentValues.SIM_PORT,
    host: environmentValues.SIM_HOST,
    options: {
      latencyMs: environmentValues.SIM_LATENCY_MS,
      jitterMs: environmentValues.SIM_JITTER_MS,
      chunkDelayMs: environmentValues.SIM_CHUNK_DELAY_MS,
      limits,
      batchProcessingMs: environmentValues.SIM_BATCH_PROCESSING_MS,
      batchExpiryMs: environmentValues.SIM_BATCH_EXPIRY_MS,
      ...(apiKeys !== undefined && apiKeys.length > 0 ? { apiKeys } : {}),
      ...(accounts !== undefined ? { accounts } : {}),
    },
  };
}
