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
