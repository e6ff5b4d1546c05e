import type { z } from 'zod';
import { invalidArgument } from './gemini-errors.js';
import type { WireError } from './wire-error.js';

/** camelCase JSON name -> the proto field name Google's errors use (`generationConfig` -> `generation_config`). */
function protoName(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

/** A zod path as Google names fields in errors: `contents[0].parts[1].inline_data`. */
export function protoPath(path: readonly PropertyKey[]): string {
  let name = '';
  for (const segment of path) {
    if (typeof segment === 'number') name += `[${segment}]`;
    else name += name === '' ? protoName(String(segment)) : `.${protoName(String(segment))}`;
  }
  return name;
}

const PROTO_TYPES: Readonly<Record<string, string>> = {
  number: 'TYPE_FLOAT',
  int: 'TYPE_INT32',
  string: 'TYPE_STRING',
  boolean: 'TYPE_BOOL',
};

/** A violation of a required-field or range rule, in the `* Request.field: text` form Google uses. */
export function requestViolation(request: string, path: readonly PropertyKey[], text: string): WireError {
  const field = protoPath(path);
  const description = `* ${request}.${field}: ${text}\n`;
  return invalidArgument(description, [{ field, description: text }]);
}

/**
 * The first zod issue as the 400 the Gemini API sends: unknown fields are "Unknown name" errors
 * (proto JSON parsing), wrong types "Invalid value at", missing fields and range faults the
 * `* GenerateContentRequest.field: ...` form. Needs `reportInput: true` to quote bad values.
 */
export function geminiValidationError(error: z.ZodError, request: string): WireError {
  const issue = error.issues[0];
  if (issue === undefined) return invalidArgument('Invalid JSON payload received.');
  const field = protoPath(issue.path);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const name = issue.keys[0] ?? '';
      const at = field === '' ? '' : ` at '${field}'`;
      const message = `Invalid JSON payload received. Unknown name "${name}"${at}: Cannot find field.`;
      return invalidArgument(message, [field === '' ? { description: message } : { field, description: message }]);
    }
    case 'invalid_type': {
      if (issue.input === undefined) return requestViolation(request, issue.path, `${field} is not specified`);
      const type = PROTO_TYPES[issue.expected] ?? issue.expected;
      const message = `Invalid value at '${field}' (${type}), ${JSON.stringify(issue.input) ?? 'null'}`;
      return invalidArgument(message, [{ field, description: message }]);
    }
    case 'too_small':
      return requestViolation(request, issue.path, `must be at least ${String(issue.minimum)}`);
    case 'too_big':
      return requestViolation(request, issue.path, `must be at most ${String(issue.maximum)}`);
    case 'invalid_value': {
      const message = `Invalid value at '${field}', ${JSON.stringify(issue.input) ?? 'null'}`;
      return invalidArgument(message, [{ field, description: message }]);
    }
    default:
      return requestViolation(request, issue.path, issue.message);
  }
}
