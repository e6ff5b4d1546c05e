import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { tenantTag } from '../store/job-keys.js';
import { readLuaScript } from '../store/lua-scripts.js';
import { createWebhookSecret } from './webhook-signer.js';

interface SecretCommands {
  llmqRotateWebhookSecret(key: string, ...args: string[]): Promise<string>;
  llmqDeleteWebhookSecret(key: string, id: string): Promise<'deleted' | 'current' | 'missing'>;
}

const storedSchema = z.object({
  secrets: z.array(
    z.object({
      id: z.string(),
      secret: z.string(),
      created_at: z.number(),
      expires_at: z.number().optional(),
    }),
  ),
});

/** One of a tenant's signing secrets. Times are ms since the epoch. */
export interface WebhookSecret {
  id: string;
  secret: string;
  createdAt: number;
  /** When a rotated-out secret stops signing; null for the current one. */
  expiresAt: number | null;
}

export interface WebhookSecrets {
  current: WebhookSecret;
  /** Rotated-out secrets still in their grace period, newest first. */
  previous: WebhookSecret[];
}

export interface WebhookSecretStoreOptions {
  redis: Redis;
  /** Clock, ms. Default: Date.now. */
  now?: () => number;
}

/** Rotated-out secrets kept besides the current one; older ones stop signing at the next rotation. */
const MAX_PREVIOUS_SECRETS = 4;

export function webhookSecretsKey(tenant: string): string {
  return `${tenantTag(tenant)}:webhook-secrets`;
}

const newSecretId = () => `whs_${randomBytes(9).toString('base64url')}`;

/**
 * Each tenant's webhook signing secrets, in Redis (one JSON value per tenant, under the tenant's
 * hash tag). A tenant's first secret is created on first use, so every delivery is signed.
 */
export class WebhookSecretStore {
  readonly #redis: Redis & SecretCommands;
  readonly #now: () => number;

  constructor(options: WebhookSecretStoreOptions) {
    const redis = options.redis as Redis & SecretCommands;
    if (typeof redis.llmqRotateWebhookSecret !== 'function') {
      redis.defineCommand('llmqRotateWebhookSecret', {
        numberOfKeys: 1,
        lua: readLuaScript(new URL('./lua/rotate-webhook-secret.lua', import.meta.url)),
      });
      redis.defineCommand('llmqDeleteWebhookSecret', {
        numberOfKeys: 1,
        lua: readLuaScript(new URL('./lua/delete-webhook-secret.lua', import.meta.url)),
      });
    }
    this.#redis = redis;
    this.#now = options.now ?? Date.now;
  }

  /** The tenant's secrets, creating the first one if there is none yet. */
  async get(tenant: string): Promise<WebhookSecrets> {
    const key = webhookSecretsKey(tenant);
    let stored = await this.#redis.get(key);
    if (stored === null) {
      const first = { id: newSecretId(), secret: createWebhookSecret(), created_at: this.#now() };
      // NX: two first uses at once keep whichever was written first.
      await this.#redis.set(key, JSON.stringify({ secrets: [first] }), 'NX');
      stored = (await this.#redis.get(key)) ?? JSON.stringify({ secrets: [first] });
    }
    return this.#parse(stored);
  }

  /** The secrets a delivery is signed with now: the current one first, then those in grace. */
  async signingSecrets(tenant: string): Promise<string[]> {
    const secrets = await this.get(tenant);
    return [secrets.current, ...secrets.previous].map((entry) => entry.secret);
  }

  /** A new current secret; the old one keeps signing for `graceMs` (0: stops at once). */
  async rotate(tenant: string, graceMs: number): Promise<WebhookSecrets> {
    const stored = await this.#redis.llmqRotateWebhookSecret(
      webhookSecretsKey(tenant),
      newSecretId(),
      createWebhookSecret(),
      String(this.#now()),
      String(Math.max(0, Math.round(graceMs))),
      String(MAX_PREVIOUS_SECRETS + 1),
    );
    return this.#parse(stored);
  }

  /** Ends a rotated-out secret's grace now. */
  async deletePrevious(tenant: string, id: string): Promise<'deleted' | 'current' | 'missing'> {
    return this.#redis.llmqDeleteWebhookSecret(webhookSecretsKey(tenant), id);
  }

  #parse(stored: string): WebhookSecrets {
    const now = this.#now();
    const entries = storedSchema.parse(JSON.parse(stored)).secrets.map((entry): WebhookSecret => ({
      id: entry.id,
      secret: entry.secret,
      createdAt: entry.created_at,
      expiresAt: entry.expires_at ?? null,
    }));
    const current = entries.find((entry) => entry.expiresAt === null);
    if (current === undefined) throw new Error('the stored webhook secrets have no current secret');
    const previous = entries.filter((entry) => entry.expiresAt !== null && entry.expiresAt > now);
    return { current, previous };
  }
}
