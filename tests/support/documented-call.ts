import type { Stack } from '@llmq/devkit';
import { expectDocumentedAnswer } from './openapi-answers.js';

/**
 * One call to the stack's API as a tenant (`null`: no key), JSON body in and out; every answer
 * must be one the OpenAPI document describes.
 */
export async function documentedCall(
  stack: Stack,
  path: string,
  init: RequestInit & { tenant?: string | null } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers = new Headers(init.headers);
  if (init.tenant !== null) headers.set('authorization', `Bearer ${stack.keys[init.tenant ?? 'alpha'] ?? ''}`);
  if (init.body !== undefined && !headers.has('content-type')) headers.set('content-type', 'application/json');
  const response = await fetch(`${stack.apiUrl}${path}`, { ...init, headers });
  const body = (await response.json()) as Record<string, unknown>;
  await expectDocumentedAnswer(stack.apiUrl, {
    method: init.method ?? 'GET',
    path,
    status: response.status,
    headers: response.headers,
    body,
  });
  return { status: response.status, body };
}
