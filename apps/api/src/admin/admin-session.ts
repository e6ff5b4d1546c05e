import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** The dashboard's session cookie; its path keeps it off every request outside /admin. */
export const ADMIN_SESSION_COOKIE = 'llmq_admin';

/** How long a login lasts. */
export const ADMIN_SESSION_MS = 12 * 3_600_000;

const digest = (text: string) => createHash('sha256').update(text).digest();

/** Compares a presented token with the expected one in constant time, whatever their lengths. */
export function sameToken(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

/**
 * The key that signs session cookies, derived from the admin token: every API replica computes
 * the same one without sharing state, the cookie never carries the token, and changing the token
 * ends every session.
 */
export function sessionSigningSecret(adminToken: string): string {
  return createHmac('sha256', adminToken).update('llmq admin session v1').digest('base64url');
}

/** The cookie's value: when the session ends (ms). cookie-parser signs and checks it. */
export function newSessionValue(now = Date.now()): string {
  return String(now + ADMIN_SESSION_MS);
}

/** Whether a (signature-checked) cookie value is a session that has not ended. */
export function isLiveSession(value: unknown, now = Date.now()): boolean {
  if (typeof value !== 'string' || !/^\d{1,16}$/.test(value)) return false;
  const endsAt = Number(value);
  return endsAt > now && endsAt <= now + ADMIN_SESSION_MS;
}
