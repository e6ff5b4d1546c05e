import { z } from 'zod';
import { jobObjectSchema } from './job-object-schemas.js';

/** What a webhook delivery posts when a job ends (JobEndedEvent). */
export const webhookEventSchema = z.strictObject({
  type: z.enum(['job.succeeded', 'job.failed', 'job.canceled']),
  timestamp: z.iso.datetime().describe('when the job ended, ISO 8601'),
  data: jobObjectSchema.describe('the job as it ended (its webhook shows no deliveries yet)'),
});

const BASE64 = '[A-Za-z0-9+/]+={0,2}';

/**
 * The document's `webhooks`: the request llmq sends to a job's `webhook.url`, signed per the
 * Standard Webhooks spec, so a receiver can be generated and checked like a client.
 */
export function webhookOperations(component: (id: string) => string) {
  const header = (name: string, description: string, pattern: string) => ({
    name,
    in: 'header',
    required: true,
    description,
    schema: { type: 'string', pattern },
  });
  return {
    'job.ended': {
      post: {
        operationId: 'jobEnded',
        summary: "A job has ended: posted to its webhook.url with the tenant's signature",
        description:
          'One event per end, the same `webhook-id` on every attempt and redelivery. Attempts back off over hours (config `webhooks.retry_delays_seconds`); every attempt is recorded on the job. Verify `webhook-signature` with the secret from GET /v1/webhook-secret (any of its space-separated signatures).',
        parameters: [
          header(
            'webhook-id',
            'msg_<job id>_<status>: drop a repeat',
            '^msg_job_[0-9A-HJKMNP-TV-Z]{26}_(?:succeeded|failed|canceled)$',
          ),
          header('webhook-timestamp', 'Unix seconds of this attempt', '^\\d+$'),
          header(
            'webhook-signature',
            'v1,<base64 HMAC-SHA256 of "id.timestamp.body">, one per signing secret',
            `^v1,${BASE64}(?: v1,${BASE64})*$`,
          ),
        ],
        requestBody: {
          required: true,
          content: { 'application/json': { schema: { $ref: component('WebhookEvent') } } },
        },
        responses: {
          '2XX': { description: 'delivered' },
          '410': { description: 'gone: this event is not sent again' },
          default: { description: 'failed: tried again on the schedule' },
        },
      },
    },
  };
}
