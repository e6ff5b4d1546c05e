import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { DEFAULT_WEBHOOK_RETRY_DELAYS_MS } from './webhook-schedule.js';

/** The `webhooks` section of the config file. Every field is optional. */
export const webhookConfigSchema = z
  .strictObject({
    /** Host names delivered to whatever they resolve to, e.g. `hooks.internal`. Default: none. */
    allow_hosts: z
      .array(z.string().regex(/^[A-Za-z0-9.:[\]_-]{1,253}$/, 'must be a host name or IP address'))
      .default([]),
    /** Address ranges delivered to even when private, e.g. `127.0.0.1/32`, `10.1.0.0/16`. Default: none. */
    allow_cidrs: z
      .array(z.string().refine((cidr) => ipaddr.isValidCIDR(cidr), 'must be a CIDR range such as "10.0.0.0/8"'))
      .default([]),
    /** Seconds before each retry. Default: 5, 300, 1800, 7200, 18000, 36000, 36000 (about a day). */
    retry_delays_seconds: z
      .array(
        z
          .number()
          .min(0)
          .max(7 * 86_400),
      )
      .max(30)
      .default(DEFAULT_WEBHOOK_RETRY_DELAYS_MS.map((delay) => delay / 1000)),
    /** Time limit of one attempt, seconds. Default: 10. */
    timeout_seconds: z.number().positive().max(120).default(10),
    /** Bytes of a receiver's answer read before the connection is dropped. Default: 4096. */
    max_response_bytes: z.number().int().min(0).max(1_048_576).default(4096),
    /** How long a rotated-out secret keeps signing, seconds. Default: 86400 (1 day). */
    secret_grace_seconds: z
      .number()
      .int()
      .min(0)
      .max(30 * 86_400)
      .default(86_400),
    /** Deliveries one worker process sends at once. Default: 32. */
    concurrency: z.number().int().min(1).max(1000).default(32),
  })
  .prefault({});

export type WebhookConfig = z.infer<typeof webhookConfigSchema>;
