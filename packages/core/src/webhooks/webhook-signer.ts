import { createHmac, randomBytes } from 'node:crypto';

/** The prefix Standard Webhooks gives secrets; the rest is the key, base64. */
export const WEBHOOK_SECRET_PREFIX = 'whsec_';

/** Key bytes of a new secret; the spec asks for 24 to 64. */
const SECRET_BYTES = 32;

/** A fresh `whsec_<base64 of 32 random bytes>` secret. */
export function createWebhookSecret(): string {
  return `${WEBHOOK_SECRET_PREFIX}${randomBytes(SECRET_BYTES).toString('base64')}`;
}

/** The HMAC key of a `whsec_` secret: the bytes its base64 part encodes. */
export function webhookSecretKey(secret: string): Buffer {
  if (!secret.startsWith(WEBHOOK_SECRET_PREFIX)) throw new Error('a webhook secret starts with "whsec_"');
  return Buffer.from(secret.slice(WEBHOOK_SECRET_PREFIX.length), 'base64');
}

/** `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` for one secret. */
export function signWebhookPayload(options: { id: string; timestamp: number; body: string; secret: string }): string {
  const digest = createHmac('sha256', webhookSecretKey(options.secret))
    .update(`${options.id}.${options.timestamp}.${options.body}`)
    .digest('base64');
  return `v1,${digest}`;
}

export interface WebhookSignatureHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/**
 * The Standard Webhooks headers of one attempt. Several secrets (during a rotation) give
 * space-separated signatures, any one of which verifies.
 */
export function webhookSignatureHeaders(options: {
  /** Same on every attempt of one event, so receivers can drop duplicates. */
  id: string;
  /** Unix seconds of this attempt. */
  timestamp: number;
  body: string;
  /** Newest first; at least one. */
  secrets: readonly string[];
}): WebhookSignatureHeaders {
  if (options.secrets.length === 0) throw new Error('signing needs at least one secret');
  const signatures = options.secrets.map((secret) => signWebhookPayload({ ...options, secret }));
  return {
    'webhook-id': options.id,
    'webhook-timestamp': String(options.timestamp),
    'webhook-signature': signatures.join(' '),
  };
}
