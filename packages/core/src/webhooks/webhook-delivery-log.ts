import type { Redis } from 'ioredis';
import { jobRecordKey } from '../store/job-keys.js';
import { readLuaScript } from '../store/lua-scripts.js';
import type { WebhookDelivery, WebhookStatus } from './webhook-delivery-state.js';

interface DeliveryLogCommands {
  llmqRecordWebhookDelivery(key: string, ...args: string[]): Promise<number>;
}

/** Attempts kept on a job: the whole default schedule several times over. */
export const MAX_RECORDED_DELIVERIES = 50;

/** Writes delivery attempts and the webhook status onto job records (see record-webhook-delivery.lua). */
export class WebhookDeliveryLog {
  readonly #redis: Redis & DeliveryLogCommands;

  constructor(redis: Redis) {
    const commands = redis as Redis & DeliveryLogCommands;
    if (typeof commands.llmqRecordWebhookDelivery !== 'function') {
      commands.defineCommand('llmqRecordWebhookDelivery', {
        numberOfKeys: 1,
        lua: readLuaScript(new URL('./lua/record-webhook-delivery.lua', import.meta.url)),
      });
    }
    this.#redis = commands;
  }

  /** Appends an attempt and sets the status; false when the job record no longer exists. */
  async record(tenant: string, jobId: string, status: WebhookStatus, delivery: WebhookDelivery): Promise<boolean> {
    const reply = await this.#redis.llmqRecordWebhookDelivery(
      jobRecordKey(tenant, jobId),
      status,
      JSON.stringify(delivery),
      String(MAX_RECORDED_DELIVERIES),
      '0',
    );
    return reply >= 0;
  }

  /** Marks the webhook pending again and numbers the new delivery; null when the record is gone. */
  async beginRedelivery(tenant: string, jobId: string): Promise<number | null> {
    const reply = await this.#redis.llmqRecordWebhookDelivery(
      jobRecordKey(tenant, jobId),
      'pending',
      '',
      String(MAX_RECORDED_DELIVERIES),
      '1',
    );
    return reply >= 0 ? reply : null;
  }
}
