/**
 * The smallest value that satisfies a JSON Schema the way a structured-output reply must: every
 * `required` property present with a value of the right type. Optional properties are left out,
 * enums and consts take their first value, unions their first branch. Local `$ref`s
 * (`#/$defs/...`, `#/definitions/...`) are followed; recursion stops at a depth limit so a
 * self-referencing schema still yields a finite value.
 */

type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

const MAX_DEPTH = 12;
const STRING_FORMATS: Readonly<Record<string, string>> = {
  'date-time': '2025-01-01T00:00:00Z',
  date: '2025-01-01',
  time: '00:00:00Z',
  email: 'simulated@example.com',
  uri: 'https://example.com/simulated',
  uuid: '00000000-0000-4000-8000-000000000000',
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asJsonValue(value: unknown): JsonValue {
  // Enum and const members came from parsed JSON, so a round trip only normalises `undefined`.
  const text = JSON.stringify(value);
  return text === undefined ? null : (JSON.parse(text) as JsonValue);
}

function resolveReference(root: Record<string, unknown>, reference: string): unknown {
  if (!reference.startsWith('#/')) return {};
  let node: unknown = root;
  for (const rawSegment of reference.slice(2).split('/')) {
    const segment = rawSegment.replaceAll('~1', '/').replaceAll('~0', '~');
    node = isRecord(node) ? node[segment] : undefined;
  }
  return node ?? {};
}

function firstType(schema: Record<string, unknown>): string | undefined {
  const type = schema.type;
  if (typeof type === 'string') return type;
  if (Array.isArray(type)) {
    const concrete = type.find((item) => item !== 'null');
    return typeof concrete === 'string' ? concrete : 'null';
  }
  if (isRecord(schema.properties)) return 'object';
  if (isRecord(schema.items)) return 'array';
  return undefined;
}

function placeholderFor(schema: unknown, root: Record<string, unknown>, depth: number): JsonValue {
  if (!isRecord(schema) || depth > MAX_DEPTH) return null;
  if (typeof schema.$ref === 'string') {
    return placeholderFor(resolveReference(root, schema.$ref), root, depth + 1);
  }
  if ('const' in schema) return asJsonValue(schema.const);
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return asJsonValue(schema.enum[0]);
  for (const unionKey of ['anyOf', 'oneOf', 'allOf'] as const) {
    const branches = schema[unionKey];
    if (Array.isArray(branches) && branches.length > 0) {
      const branch = branches.find((item) => !(isRecord(item) && item.type === 'null')) ?? branches[0];
      return placeholderFor(branch, root, depth + 1);
    }
  }
  switch (firstType(schema)) {
    case 'string':
      return stringPlaceholder(schema);
    case 'integer':
    case 'number':
      return numberPlaceholder(schema);
    case 'boolean':
      return true;
    case 'array':
      return arrayPlaceholder(schema, root, depth);
    case 'object':
      return objectPlaceholder(schema, root, depth);
    case 'null':
      return null;
    default:
      return 'simulated';
  }
}

function stringPlaceholder(schema: Record<string, unknown>): string {
  const formatted = typeof schema.format === 'string' ? STRING_FORMATS[schema.format] : undefined;
  if (formatted !== undefined) return formatted;
  const minLength = typeof schema.minLength === 'number' ? schema.minLength : 0;
  return 'simulated'.padEnd(minLength, '-');
}

function numberPlaceholder(schema: Record<string, unknown>): number {
  if (typeof schema.minimum === 'number') return Math.ceil(schema.minimum);
  if (typeof schema.exclusiveMinimum === 'number') return Math.floor(schema.exclusiveMinimum) + 1;
  if (typeof schema.maximum === 'number' && schema.maximum < 0) return Math.floor(schema.maximum);
  return 0;
}

function arrayPlaceholder(schema: Record<string, unknown>, root: Record<string, unknown>, depth: number): JsonValue[] {
  const minItems = typeof schema.minItems === 'number' ? schema.minItems : 0;
  const items: JsonValue[] = [];
  for (let index = 0; index < minItems; index += 1) {
    items.push(placeholderFor(schema.items ?? {}, root, depth + 1));
  }
  return items;
}

function objectPlaceholder(
  schema: Record<string, unknown>,
  root: Record<string, unknown>,
  depth: number,
): { [key: string]: JsonValue } {
  const properties = isRecord(schema.properties) ? schema.properties : {};
  const required = Array.isArray(schema.required) ? schema.required : [];
  const result: { [key: string]: JsonValue } = {};
  for (const name of required) {
    if (typeof name !== 'string') continue;
    result[name] = placeholderFor(properties[name] ?? {}, root, depth + 1);
  }
  return result;
}

/** A minimal value satisfying `schema`'s required structure; `{}` for a missing or empty schema. */
export function placeholderForSchema(schema: unknown): JsonValue {
  if (!isRecord(schema) || Object.keys(schema).length === 0) return {};
  return placeholderFor(schema, schema, 0);
}
