import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCanary, type CanaryListener } from './__fixtures__/canary-listener.js';
import { ssrfCorpus } from './__fixtures__/ssrf-corpus.js';
import { startWebhookReceiver, type WebhookReceiver } from './__fixtures__/webhook-receiver.js';
import { WebhookAllowlist } from './webhook-address-policy.js';
import { sendWebhook, type WebhookSendOptions } from './webhook-delivery-client.js';
import type { WebhookLookup } from './webhook-url-guard.js';

// Receivers listen on 127.0.0.2, the one loopback address the allowlist opens; canaries listen
// on 127.0.0.1 and ::1, which stay forbidden, and must never see a connection.
const allowlist = new WebhookAllowlist({ allowCidrs: ['127.0.0.2/32'], allowHosts: ['receiver.test'] });
let receiver: WebhookReceiver;
let canary: CanaryListener;
let canary6: CanaryListener;

const send = (options: Partial<WebhookSendOptions> & { url: string }) =>
  sendWebhook({ body: '{"hello":"world"}', headers: { 'webhook-id': 'msg_1' }, allowlist, ...options });

beforeAll(async () => {
  receiver = await startWebhookReceiver({ host: '127.0.0.2' });
  canary = await startCanary('127.0.0.1');
  canary6 = await startCanary('::1');
});

afterAll(async () => {
  await Promise.all([receiver.close(), canary.close(), canary6.close()]);
});

describe('webhook delivery client', () => {
  it('posts the body with the given headers and calls a 2xx delivered', async () => {
    receiver.handle((_request, response) => response.writeHead(200).end('thanks'));
    const result = await send({ url: `${receiver.url}/hooks/llmq?token=abc` });
    expect(result).toMatchObject({ outcome: 'delivered', statusCode: 200, error: null });
    const last = receiver.received.at(-1);
    expect(last?.body).toBe('{"hello":"world"}');
    expect(last?.headers).toMatchObject({
      'content-type': 'application/json',
      'user-agent': 'llmq-webhooks/1',
      'webhook-id': 'msg_1',
      host: `127.0.0.2:${receiver.port}`,
    });
  });

  it.each([
    [410, 'gone', 'the receiver answered 410 Gone'],
    [503, 'failed', 'the receiver answered 503'],
    [404, 'failed', 'the receiver answered 404'],
  ])('calls a %i %s', async (status, outcome, error) => {
    receiver.handle((_request, response) => response.writeHead(status).end());
    expect(await send({ url: receiver.url })).toMatchObject({ outcome, statusCode: status, error });
  });

  it('does not follow redirects, not even to an address it would refuse', async () => {
    for (const location of [`http://127.0.0.1:${canary.port}/`, 'http://169.254.169.254/latest/meta-data/']) {
      receiver.handle((_request, response) => response.writeHead(302, { location }).end());
      expect(await send({ url: receiver.url })).toMatchObject({
        outcome: 'failed',
        statusCode: 302,
        error: 'the receiver answered 302; redirects are not followed',
      });
    }
    expect(canary.connections()).toBe(0);
  });

  it('gives up on a receiver that does not answer in time', async () => {
    receiver.handle(() => undefined);
    const result = await send({ url: receiver.url, timeoutMs: 300 });
    expect(result).toMatchObject({ outcome: 'failed', statusCode: null, error: 'timed out after 300 ms' });
    expect(result.durationMs).toBeGreaterThanOrEqual(290);
    expect(result.durationMs).toBeLessThan(2_000);
  });

  it('gives up on a resolver that does not answer in time', async () => {
    const stuck: WebhookLookup = () => new Promise(() => undefined);
    const result = await send({ url: 'https://slow.test/hook', lookup: stuck, timeoutMs: 200 });
    expect(result).toMatchObject({ outcome: 'failed', error: 'timed out resolving after 200 ms' });
  });

  it('reads at most the cap of an endless answer, then drops the connection', async () => {
    let written = 0;
    let closed = false;
    receiver.handle((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain' });
      const timer = setInterval(() => {
        written += 16_384;
        response.write('x'.repeat(16_384));
      }, 5);
      response.on('close', () => {
        closed = true;
        clearInterval(timer);
      });
    });
    const result = await send({ url: receiver.url, maxResponseBytes: 4096, timeoutMs: 5_000 });
    expect(result).toMatchObject({ outcome: 'delivered', statusCode: 200 });
    expect(result.durationMs).toBeLessThan(1_000);
    await expect.poll(() => closed).toBe(true);
    expect(written).toBeLessThan(1_000_000);
  });

  it('connects to the address it checked, whatever the resolver says later (no DNS rebinding)', async () => {
    let lookups = 0;
    const rebinding: WebhookLookup = async () => {
      lookups += 1;
      return [{ address: lookups === 1 ? '127.0.0.2' : '127.0.0.1', family: 4 }];
    };
    const strictHosts = new WebhookAllowlist({ allowCidrs: ['127.0.0.2/32'] });
    receiver.handle((_request, response) => response.writeHead(200).end());
    for (let round = 0; round < 3; round += 1) {
      lookups = 0;
      const result = await send({
        url: `http://rebind.test:${receiver.port}/x`,
        lookup: rebinding,
        allowlist: strictHosts,
      });
      expect(result.outcome).toBe('delivered');
      expect(lookups).toBe(1);
    }
    expect(receiver.received.at(-1)?.headers.host).toBe(`rebind.test:${receiver.port}`);
    expect(canary.connections()).toBe(0);
  });

  it('refuses every target of the SSRF corpus without a single connection', async () => {
    const privateNames = ['internal.test', 'v6-loopback.test', 'mapped.test', 'mixed.test'];
    const zone: Record<string, string[]> = {
      'internal.test': ['127.0.0.1'],
      'v6-loopback.test': ['::1'],
      'mapped.test': ['::ffff:127.0.0.1'],
      'mixed.test': ['127.0.0.2', '127.0.0.1'],
    };
    const lookup: WebhookLookup = async (hostname) =>
      (zone[hostname] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    const corpus = ssrfCorpus({ port: canary.port, port6: canary6.port, privateNames });
    const results = await Promise.all(corpus.map((target) => send({ url: target.url, lookup, timeoutMs: 2_000 })));
    for (const [index, result] of results.entries()) {
      expect(result.outcome, corpus[index]?.name).toBe('refused');
      expect(result.error, corpus[index]?.name).toMatch(/^(refused|must)/);
    }
    expect(canary.connections() + canary6.connections()).toBe(0);

    // The canaries do count: a connection that skips the guard is seen.
    await fetch(`http://127.0.0.1:${canary.port}/`).catch(() => undefined);
    expect(canary.connections()).toBe(1);
  });

  describe('over TLS', () => {
    let directory: string;
    let tlsReceiver: WebhookReceiver;
    let ca: string;

    beforeAll(async () => {
      directory = mkdtempSync(join(tmpdir(), 'llmq-tls-'));
      const [key, cert] = [join(directory, 'key.pem'), join(directory, 'cert.pem')];
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:prime256v1',
          '-nodes',
          '-days',
          '1',
          '-subj',
          '/CN=receiver.test',
          '-addext',
          'subjectAltName=DNS:receiver.test',
          '-keyout',
          key,
          '-out',
          cert,
        ],
        { stdio: 'ignore' },
      );
      ca = readFileSync(cert, 'utf8');
      tlsReceiver = await startWebhookReceiver({
        host: '127.0.0.2',
        tls: { key: readFileSync(key, 'utf8'), cert: ca },
      });
    });

    afterAll(async () => {
      await tlsReceiver.close();
      rmSync(directory, { recursive: true, force: true });
    });

    const lookup: WebhookLookup = async () => [{ address: '127.0.0.2', family: 4 }];

    it('keeps the URL host as TLS server name and Host while connecting to the pinned address', async () => {
      const result = await send({ url: `https://receiver.test:${tlsReceiver.port}/hook`, lookup, tls: { ca } });
      expect(result).toMatchObject({ outcome: 'delivered', error: null });
      expect(tlsReceiver.received.at(-1)).toMatchObject({
        servername: 'receiver.test',
        headers: { host: `receiver.test:${tlsReceiver.port}` },
      });
    });

    it('checks the certificate against the URL host, not the address', async () => {
      const result = await send({ url: `https://127.0.0.2:${tlsReceiver.port}/hook`, tls: { ca } });
      expect(result.outcome).toBe('failed');
      expect(result.error).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID|does not match|altnames/i);
    });
  });
});
