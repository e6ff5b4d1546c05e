import { SpanKind } from '@opentelemetry/api';
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_SCHEME,
} from '@opentelemetry/semantic-conventions';
import { contextFromTraceparent, inSpan, markSpanFailed, type WebhookAttemptResult } from '@llmq/core';

/**
 * One webhook attempt in an HTTP CLIENT span (`POST`) under the job's end. It names the
 * receiver's origin only: paths and queries of webhook URLs often carry the receiver's tokens.
 */
export function traceWebhookDelivery(
  delivery: { url: string; jobId: string; attempt: number; traceparent: string | undefined },
  send: () => Promise<WebhookAttemptResult>,
): Promise<WebhookAttemptResult> {
  const url = new URL(delivery.url);
  const scheme = url.protocol.replace(/:$/, '');
  return inSpan(
    'POST',
    {
      kind: SpanKind.CLIENT,
      parent: contextFromTraceparent(delivery.traceparent),
      attributes: {
        [ATTR_HTTP_REQUEST_METHOD]: 'POST',
        [ATTR_URL_SCHEME]: scheme,
        [ATTR_SERVER_ADDRESS]: url.hostname,
        [ATTR_SERVER_PORT]: url.port === '' ? (scheme === 'https' ? 443 : 80) : Number(url.port),
        'llmq.webhook.origin': url.origin,
        'llmq.webhook.attempt': delivery.attempt,
        'llmq.job.id': delivery.jobId,
      },
    },
    async (span) => {
      const result = await send();
      span.setAttribute('llmq.webhook.outcome', result.outcome);
      if (result.statusCode !== null) span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, result.statusCode);
      if (result.outcome === 'failed' || result.outcome === 'refused') {
        markSpanFailed(span, result.statusCode === null ? result.outcome : String(result.statusCode));
      }
      return result;
    },
  );
}
