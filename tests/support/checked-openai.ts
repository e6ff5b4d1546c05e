import OpenAI from 'openai';
import type { Stack } from '@llmq/devkit';
import { openApiAnswersOf } from './openapi-answers.js';

/**
 * The official OpenAI SDK pointed at llmq as `tenant`, retries off. Every answer it receives is
 * checked against llmq's /openapi.json; what does not match is collected in `problems`.
 */
export function checkedOpenAi(stack: Stack, tenant = 'alpha', problems: string[] = []) {
  openApiAnswersOf(stack.apiUrl).catch(() => undefined);
  const checkingFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const response = await fetch(input, init);
    const url = input instanceof Request ? input.url : String(input);
    // The SDK also fetches a `data:` URL of its own (probing its multipart support).
    if (!url.startsWith(stack.apiUrl)) return response;
    const copy = response.clone();
    const { pathname, search } = new URL(url);
    const isJson = copy.headers.get('content-type')?.startsWith('application/json') ?? false;
    const body: unknown = isJson ? await copy.json() : undefined;
    const found = (await openApiAnswersOf(stack.apiUrl)).check({
      method: init?.method ?? 'GET',
      path: `${pathname}${search}`,
      status: response.status,
      headers: response.headers,
      ...(isJson ? { body } : {}),
    });
    for (const problem of found)
      problems.push(`${init?.method ?? 'GET'} ${pathname}${search} ${response.status}: ${problem}`);
    return response;
  };
  const client = new OpenAI({
    apiKey: stack.keys[tenant] ?? '',
    baseURL: `${stack.apiUrl}/v1`,
    maxRetries: 0,
    fetch: checkingFetch,
  });
  return { client, problems };
}
