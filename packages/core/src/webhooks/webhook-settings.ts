import { WebhookAllowlist } from './webhook-address-policy.js';
import type { WebhookConfig } from './webhook-config-schema.js';

/** The `webhooks` config section in the units the code uses. */
export interface WebhookSettings {
  allowlist: WebhookAllowlist;
  retryDelaysMs: number[];
  timeoutMs: number;
  maxResponseBytes: number;
  secretGraceMs: number;
  concurrency: number;
}

export function webhookSettingsFrom(config: WebhookConfig): WebhookSettings {
  return {
    allowlist: new WebhookAllowlist({ allowHosts: config.allow_hosts, allowCidrs: config.allow_cidrs }),
    retryDelaysMs: config.retry_delays_seconds.map((seconds) => Math.round(seconds * 1000)),
    timeoutMs: Math.round(config.timeout_seconds * 1000),
    maxResponseBytes: config.max_response_bytes,
    secretGraceMs: config.secret_grace_seconds * 1000,
    concurrency: config.concurrency,
  };
}
