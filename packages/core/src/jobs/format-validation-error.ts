import type { z } from 'zod';

/** `request.messages[0].content` from a zod issue path. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  let formatted = '';
  for (const segment of path) {
    if (typeof segment === 'number') formatted += `[${segment}]`;
    else formatted += formatted === '' ? String(segment) : `.${String(segment)}`;
  }
  return formatted;
}

export interface ValidationProblem {
  /** Dotted path of the offending field, `""` for the body itself. */
  field: string;
  message: string;
}

/** Flattens a zod error into field problems, most specific first, deduplicated. */
export function validationProblems(error: z.ZodError): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  const seen = new Set<string>();
  const visit = (issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[]) => {
    for (const issue of issues) {
      const path = [...prefix, ...issue.path];
      // A union failure carries each branch's issues; show the branches' own messages when
      // there is a single branch that came close, else the union's summary message.
      if (issue.code === 'invalid_union' && issue.errors.length > 0 && issue.message === 'Invalid input') {
        const closest = issue.errors.reduce((best, branch) => (branch.length < best.length ? branch : best));
        visit(closest, path);
        continue;
      }
      let message = issue.message;
      if (issue.code === 'unrecognized_keys') {
        message = `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((key) => `"${key}"`).join(', ')}`;
      }
      const field = formatIssuePath(path);
      const key = `${field}\u0000${message}`;
      if (seen.has(key)) continue;
      seen.add(key);
      problems.push({ field, message });
    }
  };
  visit(error.issues, []);
  return problems;
}

/** One sentence naming every problem, e.g. `request.messages: must contain at least one message`. */
export function formatValidationError(error: z.ZodError): string {
  return validationProblems(error)
    .map((problem) => (problem.field === '' ? problem.message : `${problem.field}: ${problem.message}`))
    .join('; ');
}
