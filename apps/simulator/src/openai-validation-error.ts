import type { z } from 'zod';
import { invalidRequest } from './openai-errors.js';
import type { WireError } from './wire-error.js';

/** A zod path as OpenAI names parameters: `messages[0].content`. */
export function parameterName(path: readonly PropertyKey[]): string {
  let name = '';
  for (const segment of path) {
    if (typeof segment === 'number') name += `[${segment}]`;
    else name += name === '' ? String(segment) : `.${String(segment)}`;
  }
  return name;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a decimal';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

/**
 * The first zod issue as the 400 OpenAI would send, in OpenAI's wording where it has a fixed one
 * (missing parameter, wrong type, empty array, out-of-range number). Needs the issues parsed with
 * `reportInput: true` to name the received type.
 */
export function validationError(error: z.ZodError): WireError {
  const issue = error.issues[0];
  if (issue === undefined) return invalidRequest('Invalid request body.');
  const param = parameterName(issue.path);
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) {
        return invalidRequest(`Missing required parameter: '${param}'.`, param, 'missing_required_parameter');
      }
      return invalidRequest(
        `Invalid type for '${param}': expected ${issue.expected}, but got ${describe(issue.input)} instead.`,
        param,
        'invalid_type',
      );
    case 'too_small':
      if (issue.origin === 'array' && Number(issue.minimum) === 1) {
        return invalidRequest(
          `Invalid '${param}': empty array. Expected an array with minimum length 1, but got an empty array instead.`,
          param,
          'empty_array',
        );
      }
      return invalidRequest(
        `Invalid '${param}': value below minimum. Expected a value >= ${String(issue.minimum)}, but got ${String(issue.input)} instead.`,
        param,
        'invalid_value',
      );
    case 'too_big':
      return invalidRequest(
        `Invalid '${param}': value above maximum. Expected a value <= ${String(issue.maximum)}.`,
        param,
        'invalid_value',
      );
    case 'invalid_value':
      return invalidRequest(
        `Invalid value: '${String(issue.input)}'. Supported values are: ${issue.values.map((value) => `'${String(value)}'`).join(', ')}.`,
        param,
        'invalid_value',
      );
    default:
      return invalidRequest(`Invalid '${param}': ${issue.message}.`, param, 'invalid_value');
  }
}
