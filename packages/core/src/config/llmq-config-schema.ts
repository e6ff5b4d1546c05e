import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { batchingConfigSchema } from '../batching/batching-config-schema.js';
import { budgetsConfigSchema } from '../budget/budget-config-schema.js';
import { cacheConfigSchema } from '../cache/cache-config-schema.js';
import { pricesConfigSchema } from '../cost/price-config-schema.js';
import { formatValidationError } from '../jobs/format-validation-error.js';
import { webhookConfigSchema } from '../webhooks/webhook-config-schema.js';

const BUILT_IN_PROVIDERS = ['openai', 'anthropic', 'google'];

const providerName = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,63}$/, 'provider names are lowercase letters, digits, "-" and "_"');

const openAICompatibleProvider = z.strictObject({
  type: z.literal('openai-compatible'),
  /** Server root including the API version path, e.g. `http://127.0.0.1:8000/v1`. */
  base_url: z.url({ protocol: /^https?$/ }),
  /** Name of the environment variable holding the key; servers without auth need none. */
  api_key_env: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
    .optional(),
  /** Whether the server has `/embeddings`. Default: true. */
  embeddings: z.boolean().default(true),
  /** Extra headers sent on every call (no secrets here: use api_key_env). */
  headers: z.record(z.string(), z.string()).optional(),
});

const limitSchema = z.strictObject({
  /** Requests per minute the provider allows this model. */
  rpm: z.number().int().positive().optional(),
  /** Tokens (input + output) per minute. */
  tpm: z.number().int().positive().optional(),
  /**
   * Share of each limit the bucket may hand out at once. Default 0.02. The bucket refills at
   * (limit - burst) per minute, so no 60 s window ever sees more than the limit; the price is
   * that steady use tops out at 1 - burst of it.
   */
  burst: z.number().gt(0).lt(1).default(0.02),
  /**
   * Prompt tokens this model's provider batches may have waiting at the provider at once (OpenAI's
   * batch queue limit, Gemini's enqueued tokens). llmq holds a batch back until earlier ones end
   * rather than have it refused. Unset: no bound but the batch size.
   */
  batch_enqueued_tokens: z.number().int().positive().optional(),
});

const envVariableName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name');

/** One provider account (a key of one organisation or project); see ProviderAccounts. */
const accountSchema = z
  .strictObject({
    /** Shown on jobs, metrics and the dashboard; never the key. */
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'account names are lowercase letters, digits, "-" and "_"'),
    /** The environment variable holding the key. */
    api_key_env: envVariableName.optional(),
    /** Or a file holding it (a mounted secret); read when the worker starts. */
    api_key_file: z.string().min(1).optional(),
    /** The account's endpoint; default: the provider's. */
    base_url: z.url({ protocol: /^https?$/ }).optional(),
    /**
     * The organisation or project whose limits the key counts against; accounts of one org share
     * one bucket per model. Default: the account's own name (an org of its own).
     */
    org: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/)
      .optional(),
    /** Model ids (globs, without the provider) this account serves. Default: all. */
    models: z.array(z.string().min(1)).min(1).optional(),
    /** Per model id (glob): the org's own limits there; default: the model's entry under `limits:`. */
    limits: z.record(z.string().min(1), limitSchema).default({}),
  })
  .refine((account) => account.api_key_env === undefined || account.api_key_file === undefined, {
    message: 'give api_key_env or api_key_file, not both',
  });

/** Names unique, and the accounts of one org agreeing on each model's limit. */
const accountListSchema = z
  .array(accountSchema)
  .min(1)
  .superRefine((accounts, context) => {
    const names = new Set<string>();
    const limitsByOrg = new Map<string, Map<string, string>>();
    for (const account of accounts) {
      if (names.has(account.name))
        context.addIssue({ code: 'custom', message: `account "${account.name}" is listed twice` });
      names.add(account.name);
      const org = account.org ?? account.name;
      const known = limitsByOrg.get(org) ?? new Map<string, string>();
      limitsByOrg.set(org, known);
      for (const [pattern, limit] of Object.entries(account.limits)) {
        const given = JSON.stringify(limit);
        const earlier = known.get(pattern);
        if (earlier !== undefined && earlier !== given) {
          context.addIssue({
            code: 'custom',
            message: `accounts of org "${org}" give different limits for ${pattern}`,
          });
        }
        known.set(pattern, given);
      }
    }
  });

const tenantLimitSchema = z.strictObject({
  rpm: z.number().int().positive().optional(),
  tpm: z.number().int().positive().optional(),
});

const tenantWeight = z.number().positive().max(1_000);

/** Fair share of each limited model between tenants (see limiter-fair.lua). */
const fairnessSchema = z
  .strictObject({
    /** Off: a model's calls take their turns in arrival order, whoever sent them. */
    enabled: z.boolean().default(true),
    /** The weight of a tenant not listed in `weights`. */
    default_weight: tenantWeight.default(1),
    /** Per tenant: while tenants wait for a model, its capacity goes to them in proportion. */
    weights: z.record(z.string().min(1), tenantWeight).default({}),
    /** Per tenant (or `"*"`): most calls a tenant has granted or running at once on any one model. */
    max_in_flight: z.record(z.string().min(1), z.number().int().positive()).default({}),
    /**
     * How far ahead the limiter may schedule calls while nobody waits, ms; calls past it wait in
     * the fair queue, so a backlog never books the future. 0 (the default): a call goes now or
     * waits for its turn, so a tenant whose turn it is goes at once.
     */
    horizon_ms: z.number().int().min(0).max(10_000).default(0),
  })
  .default({ enabled: true, default_weight: 1, weights: {}, max_in_flight: {}, horizon_ms: 0 });

/** The `LLMQ_CONFIG` file (YAML or JSON). Every section is optional. */
export const llmqConfigSchema = z
  .strictObject({
    providers: z
      .record(providerName, openAICompatibleProvider)
      .refine((providers) => !BUILT_IN_PROVIDERS.some((name) => name in providers), {
        message: 'openai, anthropic and google are built in; declare custom providers under another name',
      })
      .default({}),
    /**
     * Several accounts per provider (keys of one or more orgs), each with its own limits, circuit
     * and prompt cache. A provider listed here calls only through its accounts.
     */
    accounts: z.record(providerName, accountListSchema).default({}),
    /**
     * Whether a job whose prompt shares its first ~1,024 tokens with recent ones goes to the same
     * account while that account has room, so the provider's prompt cache serves it. Default true.
     */
    account_stickiness: z.boolean().default(true),
    /** Per provider/model (`openai/gpt-4o-mini`, `anthropic/*`); each matching model has its own bucket. */
    limits: z.record(z.string().min(1), limitSchema).default({}),
    /**
     * Per-tenant share of every limited model (`"*"` for every tenant, or a tenant's name), on top
     * of the model's own limit, so one tenant cannot take the whole quota.
     */
    tenant_limits: z.record(z.string().min(1), tenantLimitSchema).default({}),
    /** Weighted fair share of each limited model between tenants, and per-tenant caps. */
    fairness: fairnessSchema,
    /** max_tokens sent to Anthropic (which requires it) when a request sets none. */
    anthropic_default_max_tokens: z.number().int().positive().default(4096),
    /** Output tokens reserved for a request that sets no max_tokens; settled on the real usage. */
    default_output_tokens: z.number().int().positive().default(1024),
    aliases: z
      .record(
        z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'alias names have no "/"'),
        z.array(z.string().min(1)).min(1),
      )
      .default({}),
    /** Webhook delivery: address allowlist, retry schedule, timeouts, secret rotation grace. */
    webhooks: webhookConfigSchema,
    /** Response cache: defaults per model, TTL, tenant sharing, the semantic cache's embedding model. */
    cache: cacheConfigSchema,
    /** USD per million tokens per provider/model (glob allowed), over the built-in table. */
    prices: pricesConfigSchema,
    /** Monthly USD budget per tenant (`"*"`: every tenant without its own). */
    budgets: budgetsConfigSchema,
    /** Deferrable jobs through the providers' batch APIs: how they are gathered, polled and rescued. */
    batching: batchingConfigSchema,
  })
  .superRefine((config, context) => {
    for (const provider of Object.keys(config.accounts)) {
      if (BUILT_IN_PROVIDERS.includes(provider) || provider in config.providers) continue;
      context.addIssue({
        code: 'custom',
        path: ['accounts', provider],
        message: `"${provider}" is neither built in nor declared under providers`,
      });
    }
  });

export type LlmqConfig = z.infer<typeof llmqConfigSchema>;
export type ProviderAccountConfig = LlmqConfig['accounts'][string][number];
export type OpenAICompatibleProviderConfig = LlmqConfig['providers'][string];

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function parseLlmqConfig(text: string, source: string): LlmqConfig {
  let raw: unknown;
  try {
    raw = text.trim() === '' ? {} : parseYaml(text);
  } catch (error) {
    throw new ConfigError(`${source}: not valid YAML or JSON: ${(error as Error).message}`);
  }
  const parsed = llmqConfigSchema.safeParse(raw ?? {});
  if (!parsed.success) throw new ConfigError(`${source}: ${formatValidationError(parsed.error)}`);
  return parsed.data;
}

/** Reads and validates the config file; no path means the empty config. */
export async function loadLlmqConfig(path: string | undefined): Promise<LlmqConfig> {
  if (path === undefined || path === '') return llmqConfigSchema.parse({});
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`LLMQ_CONFIG: cannot read ${path}: ${(error as Error).message}`);
  }
  return parseLlmqConfig(text, path);
}
