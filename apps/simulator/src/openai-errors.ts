import type { SimulatedFailure } from './provider-endpoint.js';
import { WireError } from './wire-error.js';

/** OpenAI's error envelope, exactly as the API sends it. */
export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export function openAIError(
  status: number,
  error: { message: string; type: string; param?: string | null; code?: string | null },
): WireError {
  const body: OpenAIErrorBody = {
    error: { message: error.message, type: error.type, param: error.param ?? null, code: error.code ?? null },
  };
  return new WireError(status, body, error.message);
}

export function invalidRequest(message: string, param: string | null = null, code: string | null = null): WireError {
  return openAIError(400, { message, type: 'invalid_request_error', param, code });
}

/** The key as OpenAI echoes it in a 401: only the last four characters, so no secret is logged. */
function maskKey(key: string): string {
  return key.length <= 4 ? '****' : `${'*'.repeat(Math.min(key.length - 4, 20))}${key.slice(-4)}`;
}

const PER_MINUTE_NAMES = { requests: 'requests per min (RPM)', tokens: 'tokens per min (TPM)' } as const;

/** Renders a provider-neutral failure as OpenAI would send it. */
export function renderOpenAIFailure(failure: SimulatedFailure): WireError {
  switch (failure.kind) {
    case 'missing_api_key':
      return openAIError(401, {
        message:
          "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        type: 'invalid_request_error',
        code: 'invalid_api_key',
      });
    case 'invalid_api_key':
      return openAIError(401, {
        message: `Incorrect API key provided: ${maskKey(failure.key)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
        type: 'invalid_request_error',
        code: 'invalid_api_key',
      });
    case 'rate_limit': {
      const name = PER_MINUTE_NAMES[failure.limitType];
      const wait =
        failure.retryAfterMs === undefined ? '' : ` Please try again in ${Math.max(1, failure.retryAfterMs)}ms.`;
      // Real messages name the organisation: "Rate limit reached for gpt-4o in organization org-... on ...".
      const subject =
        failure.organization === undefined ? failure.model : `${failure.model} in organization ${failure.organization}`;
      const message = failure.tooLarge
        ? `Request too large for ${subject} on ${name}: Limit ${failure.limit}, Requested ${failure.requested}. The input or output tokens must be reduced in order to run successfully.`
        : `Rate limit reached for ${subject} on ${name}: Limit ${failure.limit}, Used ${failure.used}, Requested ${failure.requested}.${wait} Visit https://platform.openai.com/account/rate-limits to learn more.`;
      return openAIError(429, { message, type: failure.limitType, code: 'rate_limit_exceeded' });
    }
    case 'insufficient_quota':
      return openAIError(429, {
        message:
          'You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.',
        type: 'insufficient_quota',
        code: 'insufficient_quota',
      });
    case 'server_error':
      return openAIError(500, {
        message:
          'The server had an error while processing your request. Sorry about that! You can retry your request, or contact us through our help center at help.openai.com if the error persists.',
        type: 'server_error',
      });
    case 'overloaded':
      return openAIError(503, {
        message: 'The engine is currently overloaded, please try again later.',
        type: 'server_error',
      });
    case 'not_found':
      return openAIError(404, {
        message: `Invalid URL (${failure.method} ${failure.path})`,
        type: 'invalid_request_error',
      });
    case 'invalid_json':
      return invalidRequest(
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
      );
    case 'body_too_large':
      return openAIError(413, {
        message: `Request body too large: limit ${failure.limitBytes} bytes.`,
        type: 'invalid_request_error',
      });
  }
}
