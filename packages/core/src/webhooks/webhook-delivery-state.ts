/** Where a job's webhook stands: `pending` until an attempt settles it. */
export const WEBHOOK_STATUSES = ['pending', 'delivered', 'failed', 'gone'] as const;
export type WebhookStatus = (typeof WEBHOOK_STATUSES)[number];

/** One delivery attempt, as the job object shows it. */
export interface WebhookDelivery {
  /** 1 for the first attempt of a delivery; a redelivery starts again at 1. */
  attempt: number;
  /** Unix seconds, with milliseconds. */
  attempted_at: number;
  outcome: 'delivered' | 'gone' | 'refused' | 'failed';
  /** The receiver's HTTP status; null when it gave none. */
  status_code: number | null;
  duration_ms: number;
  error: string | null;
}

/** The `webhook` field of a job object. */
export interface JobWebhook {
  url: string;
  status: WebhookStatus;
  /** The most recent attempts, oldest first (the last 50 are kept). */
  deliveries: WebhookDelivery[];
}

export function parseWebhookStatus(text: string | undefined): WebhookStatus | null {
  return WEBHOOK_STATUSES.find((status) => status === text) ?? null;
}

/** The stored attempts in a fixed key order (Redis's cjson, which appends them, does not keep one). */
export function parseWebhookDeliveries(text: string | undefined): WebhookDelivery[] {
  if (text === undefined || text === '') return [];
  return (JSON.parse(text) as WebhookDelivery[]).map((delivery) => ({
    attempt: delivery.attempt,
    attempted_at: delivery.attempted_at,
    outcome: delivery.outcome,
    status_code: delivery.status_code,
    duration_ms: delivery.duration_ms,
    error: delivery.error,
  }));
}
