import prettyMilliseconds from 'pretty-ms';
import { toJobObject, type AttemptLogEntry, type JobError, type JobRecord, type WebhookDelivery } from '@llmq/core';

/** A time for people: ISO 8601 in UTC, never raw epoch milliseconds. */
export const isoTime = (milliseconds: number) => new Date(milliseconds).toISOString();

/** A duration for people: `850ms`, `1.2s`, `2m 5s`. */
export const humanDuration = (milliseconds: number) =>
  prettyMilliseconds(Math.max(0, milliseconds), { secondsDecimalDigits: 1, keepDecimalsOnWholeSeconds: false });

const describeError = (error: JobError) =>
  [error.type, error.provider, error.status !== undefined ? `HTTP ${error.status}` : undefined]
    .filter((part) => part !== undefined)
    .join(', ') + `: ${error.message}`;

/** One attempt in a line: `#2 openai/gpt-4o-mini failed, started 2026-…Z, took 1.2s: overloaded, …`. */
function attemptLine(attempt: AttemptLogEntry, position: number): string {
  // The log keeps Unix seconds with milliseconds.
  const via = attempt.account === undefined ? '' : ` (account ${attempt.account})`;
  const line = `#${position + 1} ${attempt.model}${via} ${attempt.status}, started ${isoTime(attempt.started_at * 1000)}, took ${humanDuration(attempt.duration_ms)}`;
  return attempt.error ? `${line}: ${describeError(attempt.error)}` : line;
}

/**
 * The receiver's origin only: paths and queries of webhook URLs often carry the receiver's
 * tokens, and so may an error that quotes the URL.
 */
function webhookView(url: string, status: string, deliveries: readonly WebhookDelivery[]) {
  const target = new URL(url);
  const scrub = (text: string) => {
    const withoutUrl = text.replaceAll(target.href, target.origin);
    return target.search === '' ? withoutUrl : withoutUrl.replaceAll(target.search, '');
  };
  return {
    webhook: { to: target.origin, status },
    // Beside `webhook`, not in it: the board's viewer folds lists nested two deep.
    webhook_deliveries: deliveries.map((delivery) => {
      const answer = delivery.status_code !== null ? ` (HTTP ${delivery.status_code})` : '';
      const line = `#${delivery.attempt} ${delivery.outcome}${answer}, at ${isoTime(delivery.attempted_at * 1000)}, took ${humanDuration(delivery.duration_ms)}`;
      return delivery.error !== null ? `${line}: ${scrub(delivery.error)}` : line;
    }),
  };
}

/**
 * What the dashboard shows of an LLM job: its record as the API tells it (status, models, attempts,
 * usage, cost, metadata, webhook), with readable times. Never the request (prompts), the result,
 * or the webhook URL's path and query.
 */
export function llmJobRecordView(record: JobRecord) {
  const job = toJobObject(record);
  const end = record.finishedAt;
  return {
    status: job.status,
    ...(job.error ? { error: describeError(job.error) } : {}),
    ...(job.waiting_for !== null ? { waiting_for: job.waiting_for } : {}),
    ...(record.earliestStartAt !== null && job.status === 'queued'
      ? { earliest_start: isoTime(record.earliestStartAt) }
      : {}),
    type: job.type,
    tenant: record.tenant,
    model: job.model,
    fallbacks: job.fallbacks,
    answered_by: job.answered_by,
    ...(job.account !== null ? { account: job.account } : {}),
    created: isoTime(record.createdAt),
    started: record.startedAt !== null ? isoTime(record.startedAt) : null,
    finished: end !== null ? isoTime(end) : null,
    ...(end !== null ? { took: humanDuration(end - record.createdAt) } : {}),
    attempts: job.attempt_log.map(attemptLine),
    usage: job.usage,
    cost_usd: job.cost_usd,
    ...(job.cost_unknown_reason !== null ? { cost_unknown_reason: job.cost_unknown_reason } : {}),
    ...(job.cached !== null ? { cached: job.cached } : {}),
    metadata: job.metadata,
    ...(job.webhook
      ? webhookView(job.webhook.url, job.webhook.status, job.webhook.deliveries)
      : { webhook: null, webhook_deliveries: [] }),
  };
}

/** The card's title: llmq's status first, then the model asked and, after a fallback, the one that answered. */
export function llmJobTitle(record: JobRecord): string {
  const asked = record.submission.request.model;
  const answered = record.answeredBy !== null && record.answeredBy !== asked ? ` → ${record.answeredBy}` : '';
  return `${record.status} · ${record.submission.type} · ${asked}${answered}`;
}
