import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import {
  createWebhookSecret,
  signWebhookPayload,
  webhookSecretKey,
  webhookSignatureHeaders,
} from './webhook-signer.js';

const body = JSON.stringify({ type: 'job.succeeded', timestamp: '2025-11-21T00:00:00.000Z', data: { id: 'job_1' } });
const now = () => Math.floor(Date.now() / 1000);

describe('webhook signing (Standard Webhooks)', () => {
  it('creates whsec_ secrets of 32 random bytes', () => {
    const secret = createWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(webhookSecretKey(secret)).toHaveLength(32);
    expect(createWebhookSecret()).not.toBe(secret);
  });

  it('matches the reference library byte for byte', () => {
    const secret = createWebhookSecret();
    const timestamp = now();
    const ours = signWebhookPayload({ id: 'msg_1', timestamp, body, secret });
    expect(ours).toBe(new Webhook(secret).sign('msg_1', new Date(timestamp * 1000), body));
  });

  it('verifies with the standardwebhooks library, every time', () => {
    for (let round = 0; round < 50; round += 1) {
      const secret = createWebhookSecret();
      const payload = JSON.stringify({ round, text: 'ünïcode ✓ "quotes"' });
      const headers = webhookSignatureHeaders({
        id: `msg_${round}`,
        timestamp: now(),
        body: payload,
        secrets: [secret],
      });
      expect(new Webhook(secret).verify(payload, { ...headers })).toEqual(JSON.parse(payload));
    }
  });

  it('fails verification for a tampered body, an old timestamp and a wrong secret', () => {
    const secret = createWebhookSecret();
    const headers = webhookSignatureHeaders({ id: 'msg_1', timestamp: now(), body, secrets: [secret] });
    const verifier = new Webhook(secret);
    expect(() => verifier.verify(body.replace('job_1', 'job_2'), { ...headers })).toThrow(/signature/i);
    const old = now() - 6 * 60;
    const stale = webhookSignatureHeaders({ id: 'msg_1', timestamp: old, body, secrets: [secret] });
    expect(() => verifier.verify(body, { ...stale })).toThrow(/timestamp/i);
    expect(() => new Webhook(createWebhookSecret()).verify(body, { ...headers })).toThrow(/signature/i);
  });

  it('signs with every secret during a rotation, so either one verifies', () => {
    const [newer, older] = [createWebhookSecret(), createWebhookSecret()];
    const headers = webhookSignatureHeaders({ id: 'msg_1', timestamp: now(), body, secrets: [newer, older] });
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(headers['webhook-signature']).toMatch(/^v1,\S+ v1,\S+$/);
    expect(() => new Webhook(newer).verify(body, { ...headers })).not.toThrow();
    expect(() => new Webhook(older).verify(body, { ...headers })).not.toThrow();
    expect(() => new Webhook(createWebhookSecret()).verify(body, { ...headers })).toThrow();
  });
});
