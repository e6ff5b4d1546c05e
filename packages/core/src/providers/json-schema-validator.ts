import { Script, createContext } from 'node:vm';
import { Ajv, type ValidateFunction } from 'ajv';
import { RE2JS } from 're2js';

/**
 * A user's JSON Schema is code llmq runs: its `pattern`s are regexes (a backtracking engine makes
 * `^(a+)+$` a ReDoS), and a recursive schema with two branches per level costs 2^depth to check
 * against a deep answer. So patterns run on RE2 (linear time; lookaround and backreferences are
 * refused), and compiling and validating both run under a wall-clock bound that interrupts them.
 */

/** Longest one compile or one validation may run, in milliseconds. */
export const SCHEMA_WORK_LIMIT_MS = 250;

/** ajv's `code.regExp`: RE2, whose matching is linear in the input, with JavaScript syntax translated. */
function linearRegExp(pattern: string, flags: string): { test: (input: string) => boolean } {
  const compiled = RE2JS.compile(RE2JS.translateRegExp(pattern), flags.includes('i') ? RE2JS.CASE_INSENSITIVE : 0);
  return { test: (input: string) => compiled.test(input) };
}
linearRegExp.code = 'linearRegExp';

// allErrors: with false, ajv nests one `if` per property, so compiling is quadratic and 5,000
// properties overflow the stack; with true the code is flat (1,000 properties: 0.3 s).
const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false, code: { regExp: linearRegExp } });

/** Thrown when a compile or a validation ran past `SCHEMA_WORK_LIMIT_MS` and was interrupted. */
export class SchemaWorkTimeout extends Error {
  constructor() {
    super(`checking against this schema took longer than ${SCHEMA_WORK_LIMIT_MS} ms`);
  }
}

// vm's timeout interrupts whatever runs inside it, functions of this context included.
const sandbox = createContext({ work: (): unknown => undefined, outcome: undefined as unknown });
const runWork = new Script('outcome = work()');

function bounded<T>(work: () => T): T {
  sandbox.work = work;
  try {
    runWork.runInContext(sandbox, { timeout: SCHEMA_WORK_LIMIT_MS });
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw new SchemaWorkTimeout();
    throw error;
  } finally {
    sandbox.work = () => undefined;
  }
  const outcome = sandbox.outcome as T;
  sandbox.outcome = undefined;
  return outcome;
}

// Compiling is far dearer than validating, and the same schemas come back job after job.
const compiled = new Map<string, ValidateFunction>();
const MAX_COMPILED = 500;

/** The schema's validator, compiled under the bound. Throws what ajv throws, or SchemaWorkTimeout. */
export function compileJsonSchema(schema: Record<string, unknown>): ValidateFunction {
  const key = JSON.stringify(schema);
  let validate = compiled.get(key);
  if (validate === undefined) {
    try {
      validate = bounded(() => ajv.compile(schema));
    } finally {
      // ajv keeps every schema it compiled; this cache is the one that is bounded.
      ajv.removeSchema(schema);
    }
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    compiled.set(key, validate);
  }
  return validate;
}

/** Why the schema cannot be used for structured output (it does not compile, or too slowly), or null. */
export function jsonSchemaProblem(schema: Record<string, unknown>): string | null {
  try {
    compileJsonSchema(schema);
    return null;
  } catch (error) {
    return error instanceof SchemaWorkTimeout
      ? `compiling it took longer than ${SCHEMA_WORK_LIMIT_MS} ms`
      : (error as Error).message;
  }
}

/**
 * The submit-time check, cheap enough for the API's event loop: every `pattern` and every
 * `patternProperties` key must compile on RE2. Compiling the whole schema is left to the worker,
 * before its call (`jsonSchemaProblem`): it can take up to `SCHEMA_WORK_LIMIT_MS`.
 */
export function schemaPatternProblem(schema: unknown): string | null {
  const pending: unknown[] = [schema];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (typeof next !== 'object' || next === null) continue;
    const node = next as Record<string, unknown>;
    const patterns = [
      ...(typeof node.pattern === 'string' ? [node.pattern] : []),
      ...(typeof node.patternProperties === 'object' && node.patternProperties !== null
        ? Object.keys(node.patternProperties)
        : []),
    ];
    for (const pattern of patterns) {
      try {
        linearRegExp(pattern, 'u');
      } catch (error) {
        return `pattern ${JSON.stringify(pattern.slice(0, 100))} cannot run in linear time (lookaround and backreferences are not supported): ${(error as Error).message}`;
      }
    }
    pending.push(...Object.values(node));
  }
  return null;
}

/** Whether `value` is valid against the compiled schema, checked under the bound (SchemaWorkTimeout past it). */
export function validateBounded(validate: ValidateFunction, value: unknown): boolean {
  return bounded(() => validate(value)) === true;
}
