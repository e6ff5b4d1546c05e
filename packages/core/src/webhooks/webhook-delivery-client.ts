import type { LookupFunction } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { Agent, request } from 'undici';
import type { WebhookAllowlist } from './webhook-address-policy.js';
import { resolveWebhookTarget, type WebhookLookup, type WebhookTarget } from './webhook-url-guard.js';

/** How one attempt ended: a 2xx `delivered`, a 410 `gone`, `refused` by the address rules, else `failed`. */
export type WebhookAttemptOutcome = 'delivered' | 'gone' | 'refused' | 'failed';

export interface WebhookAttemptResult {
  outcome: WebhookAttemptOutcome;
  /** The receiver's HTTP status; null when no answer came. */
  statusCode: number | null;
  /** From the start of resolution to the end of the (capped) response. */
  durationMs: number;
  /** What went wrong, for the delivery log; null on success. Never holds headers or secrets. */
  error: string | null;
}

export interface WebhookSendOptions {
  url: string;
  body: string;
  /** Signature headers and anything else; content-type and user-agent are added. */
  headers: Record<string, string>;
  allowlist: WebhookAllowlist;
  /** Default: the system resolver. */
  lookup?: WebhookLookup;
  /** Time limit of the whole attempt (resolution, connection, answer), ms. Default: 10,000. */
  timeoutMs?: number;
  /** Bytes of the answer read before the connection is dropped. Default: 4096. */
  maxResponseBytes?: number;
  /** Extra TLS options (e.g. a test CA). Default: none, so Node's trust store and checks apply. */
  tls?: Pick<ConnectionOptions, 'ca'>;
}

export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000;
export const DEFAULT_WEBHOOK_MAX_RESPONSE_BYTES = 4096;
const USER_AGENT = 'llmq-webhooks/1';

/** A lookup that answers only the checked host, and only with the checked address. */
function pinnedLookup(target: WebhookTarget): LookupFunction {
  return (hostname, options, callback) => {
    if (hostname.toLowerCase().replace(/\.$/, '') !== target.host) {
      callback(Object.assign(new Error(`unexpected lookup of "${hostname}"`), { code: 'ENOTFOUND' }), '', 0);
    } else if (options.all) {
      callback(null, [{ address: target.address, family: target.family }]);
    } else {
      callback(null, target.address, target.family);
    }
  };
}

function describeError(error: unknown, timeoutMs: number, signal: AbortSignal): string {
  if (signal.aborted) return `timed out after ${timeoutMs} ms`;
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
}

/** `promise`, or null if `signal` aborts first (a lookup cannot be canceled, only abandoned). */
function beforeAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | null> {
  return new Promise<T | null>((resolve, reject) => {
    const onAbort = () => resolve(null);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Reads at most `limit` bytes of an answer, then lets go; the agent is destroyed after. */
async function drainCapped(body: AsyncIterable<Buffer>, limit: number): Promise<void> {
  let received = 0;
  for await (const chunk of body) {
    received += chunk.length;
    if (received >= limit) break;
  }
}

/**
 * One delivery attempt: checks and resolves the URL, connects only to the checked address
 * (Host and TLS SNI still name the URL's host), posts the body and classifies the answer.
 * Redirects are not followed: a 3xx is a failed attempt.
 */
export async function sendWebhook(options: WebhookSendOptions): Promise<WebhookAttemptResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS;
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const signal = AbortSignal.timeout(timeoutMs);

  const resolution = await beforeAbort(
    resolveWebhookTarget(options.url, {
      allowlist: options.allowlist,
      ...(options.lookup ? { lookup: options.lookup } : {}),
    }),
    signal,
  );
  if (resolution === null) {
    return {
      outcome: 'failed',
      statusCode: null,
      durationMs: elapsed(),
      error: `timed out resolving after ${timeoutMs} ms`,
    };
  }
  if (!resolution.ok) {
    return {
      outcome: resolution.retryable ? 'failed' : 'refused',
      statusCode: null,
      durationMs: elapsed(),
      error: resolution.problem,
    };
  }

  const agent = new Agent({
    connect: { lookup: pinnedLookup(resolution.target), timeout: timeoutMs, ...options.tls },
    connections: 1,
  });
  try {
    const response = await request(resolution.target.url, {
      method: 'POST',
      dispatcher: agent,
      signal,
      headers: { ...options.headers, 'content-type': 'application/json', 'user-agent': USER_AGENT },
      body: options.body,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    await drainCapped(response.body, options.maxResponseBytes ?? DEFAULT_WEBHOOK_MAX_RESPONSE_BYTES).catch(
      () => undefined,
    );
    const statusCode = response.statusCode;
    const base = { statusCode, durationMs: elapsed() };
    if (statusCode >= 200 && statusCode < 300) return { ...base, outcome: 'delivered', error: null };
    if (statusCode === 410) return { ...base, outcome: 'gone', error: 'the receiver answered 410 Gone' };
    if (statusCode >= 300 && statusCode < 400) {
      return { ...base, outcome: 'failed', error: `the receiver answered ${statusCode}; redirects are not followed` };
    }
    return { ...base, outcome: 'failed', error: `the receiver answered ${statusCode}` };
  } catch (error) {
    return {
      outcome: 'failed',
      statusCode: null,
      durationMs: elapsed(),
      error: describeError(error, timeoutMs, signal),
    };
  } finally {
    // Drops the socket too, so an answer longer than the cap is never read to its end.
    await agent.destroy().catch(() => undefined);
  }
}
