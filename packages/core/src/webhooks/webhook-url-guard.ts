import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import {
  forbiddenAddressReason,
  normaliseHostName,
  parseIpAddress,
  type WebhookAllowlist,
} from './webhook-address-policy.js';

/** Resolves a host name to every address it has, like `dns.lookup(name, { all: true })`. */
export type WebhookLookup = (hostname: string) => Promise<Array<{ address: string; family: number }>>;

/** The system resolver (getaddrinfo: /etc/hosts, then DNS), every address, in its order. */
export const systemLookup: WebhookLookup = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

export type WebhookUrlCheck = { ok: true; url: URL; host: string; literal: boolean } | { ok: false; problem: string };

/**
 * What can be said of a webhook URL without resolving it: http(s) only, no credentials, and no
 * literal address or localhost name the rules refuse. `new URL` has already turned decimal,
 * octal, hex and short IPv4 hosts (2130706433, 0177.0.0.1, 0x7f.1, 127.1) into dotted form.
 */
export function checkWebhookUrl(text: string, allowlist: WebhookAllowlist): WebhookUrlCheck {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, problem: 'must be an absolute http(s) URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { ok: false, problem: `must be an http(s) URL (got "${url.protocol}")` };
  }
  if (url.username !== '' || url.password !== '') {
    return { ok: false, problem: 'must not carry credentials ("user:password@"); put a token in the path instead' };
  }
  const host = normaliseHostName(url.hostname);
  if (host === '') return { ok: false, problem: 'must name a host' };
  const literal = parseIpAddress(host) !== null;
  if (allowlist.hasHost(host)) return { ok: true, url, host, literal };
  if (literal) {
    const reason = allowlist.hasAddress(host) ? null : forbiddenAddressReason(host);
    if (reason !== null) return { ok: false, problem: `refused: ${host} is ${reason}` };
  } else if (host === 'localhost' || host.endsWith('.localhost')) {
    return { ok: false, problem: `refused: "${host}" names this machine` };
  }
  return { ok: true, url, host, literal };
}

/** Where one attempt connects: the address that was checked, pinned for the connection. */
export interface WebhookTarget {
  url: URL;
  /** The URL's host, normalised; what Host and TLS SNI carry. */
  host: string;
  address: string;
  family: 4 | 6;
}

export type WebhookTargetResolution =
  | { ok: true; target: WebhookTarget }
  /** `retryable`: resolution failed and may work later; otherwise the rules refuse the target. */
  | { ok: false; problem: string; retryable: boolean };

export interface ResolveWebhookTargetOptions {
  allowlist: WebhookAllowlist;
  /** Default: systemLookup. */
  lookup?: WebhookLookup;
}

/**
 * Checks the URL, resolves its host and refuses it if ANY address is forbidden (a name with one
 * public and one private address could otherwise be steered to the private one).
 */
export async function resolveWebhookTarget(
  text: string,
  options: ResolveWebhookTargetOptions,
): Promise<WebhookTargetResolution> {
  const checked = checkWebhookUrl(text, options.allowlist);
  if (!checked.ok) return { ok: false, problem: checked.problem, retryable: false };
  const { url, host } = checked;
  if (checked.literal) {
    return { ok: true, target: { url, host, address: host, family: isIP(host) === 6 ? 6 : 4 } };
  }
  let addresses: Array<{ address: string; family: number }>;
  try {
    addresses = await (options.lookup ?? systemLookup)(host);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return {
      ok: false,
      problem: `cannot resolve "${host}" (${typeof code === 'string' ? code : 'lookup failed'})`,
      retryable: true,
    };
  }
  const hostAllowed = options.allowlist.hasHost(host);
  for (const { address } of addresses) {
    if (parseIpAddress(address) === null) {
      return { ok: false, problem: `refused: "${host}" resolves to "${address}", not an IP address`, retryable: false };
    }
    const reason = hostAllowed || options.allowlist.hasAddress(address) ? null : forbiddenAddressReason(address);
    if (reason !== null) {
      return { ok: false, problem: `refused: "${host}" resolves to ${address}, ${reason}`, retryable: false };
    }
  }
  const [first] = addresses;
  if (first === undefined) return { ok: false, problem: `cannot resolve "${host}" (no addresses)`, retryable: true };
  return { ok: true, target: { url, host, address: first.address, family: isIP(first.address) === 6 ? 6 : 4 } };
}

/** The submit-time problem with a webhook URL, or null; for `createJobSubmissionSchema`. */
export function webhookUrlProblem(url: string, allowlist: WebhookAllowlist): string | null {
  const checked = checkWebhookUrl(url, allowlist);
  return checked.ok ? null : checked.problem;
}
