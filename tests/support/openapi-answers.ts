import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS: its default export arrives wrapped under ESM.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

type JsonObject = Record<string, unknown>;

/** One answer of the API, as a test client received it. */
export interface ReceivedAnswer {
  method: string;
  /** The request's path, with or without a query string. */
  path: string;
  status: number;
  headers: Headers;
  /** The parsed JSON body; undefined when the answer had none. */
  body?: unknown;
}

// The schema work is ajv's; only finding a route's answer in the document is ours. The response
// validators on npm take OpenAPI 3.0 (nullable, not 3.1's JSON Schema 2020-12) or validate inside a
// server; this checks what a client received.
const DOCUMENT_ID = 'llmq-openapi.json';
const pointer = (...parts: string[]) => parts.map((part) => part.replaceAll('~', '~0').replaceAll('/', '~1')).join('/');

/**
 * Checks answers against the API's own OpenAPI document: the status must be declared for the
 * route, the headers it declares as required present and of their schema, and a JSON body
 * valid against the declared schema (JSON Schema 2020-12, OpenAPI 3.1's dialect).
 */
export class OpenApiAnswers {
  readonly #document: JsonObject & { paths: Record<string, Record<string, JsonObject>> };
  readonly #ajv: Ajv2020;
  readonly #validators = new Map<string, ValidateFunction>();
  readonly #routes: Array<{ template: string; pattern: RegExp }>;

  constructor(document: unknown) {
    this.#document = document as JsonObject & { paths: Record<string, Record<string, JsonObject>> };
    // strict off: OpenAPI's own keywords (discriminator, example) sit beside JSON Schema's.
    this.#ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
    addFormats(this.#ajv);
    this.#ajv.addSchema({ ...this.#document, $id: DOCUMENT_ID });
    // Literal paths before templated ones: /v1/jobs/batch is not /v1/jobs/{id}.
    this.#routes = Object.keys(this.#document.paths)
      .map((template) => ({
        template,
        pattern: new RegExp(`^${template.replace(/\{\w+\}/g, '[^/]+')}$`),
        params: (template.match(/\{/g) ?? []).length,
      }))
      .sort((left, right) => left.params - right.params);
  }

  /** The document's schema at a JSON pointer inside it, compiled once. */
  schemaAt(path: string): ValidateFunction {
    let validate = this.#validators.get(path);
    if (validate === undefined) {
      validate = this.#ajv.compile({ $ref: `${DOCUMENT_ID}#${path}` });
      this.#validators.set(path, validate);
    }
    return validate;
  }

  /** Problems of `value` against the component schema `name` (empty: valid). */
  checkComponent(name: string, value: unknown): string[] {
    const validate = this.schemaAt(pointer('', 'components', 'schemas', name));
    return validate(value) ? [] : this.#ajv.errorsText(validate.errors, { separator: '\n' }).split('\n');
  }

  /** What is wrong with an answer, against the document (empty: nothing). */
  check(answer: ReceivedAnswer): string[] {
    const path = answer.path.split('?')[0] ?? '';
    const method = answer.method.toLowerCase();
    const route = this.#routes.find(({ pattern }) => pattern.test(path));
    const operation = route ? this.#document.paths[route.template]?.[method] : undefined;
    if (route === undefined || operation === undefined)
      return [`${method.toUpperCase()} ${path} is not in the document`];
    const responses = operation.responses as Record<string, JsonObject>;
    const response = responses[String(answer.status)];
    if (response === undefined) {
      return [`status ${answer.status} is not declared (declared: ${Object.keys(responses).join(', ')})`];
    }
    const problems: string[] = [];
    for (const [name, header] of Object.entries((response.headers ?? {}) as Record<string, JsonObject>)) {
      const value = answer.headers.get(name);
      if (value === null) {
        if (header.required === true) problems.push(`header ${name} is required and missing`);
        continue;
      }
      const validate = this.schemaAt(
        pointer('', 'paths', route.template, method, 'responses', String(answer.status), 'headers', name, 'schema'),
      );
      const typed = (header.schema as JsonObject | undefined)?.type === 'integer' ? Number(value) : value;
      if (!validate(typed)) problems.push(`header ${name}: "${value}" ${this.#ajv.errorsText(validate.errors)}`);
    }
    const content = response.content as Record<string, JsonObject> | undefined;
    const mediaType = answer.headers.get('content-type')?.split(';')[0]?.trim() ?? null;
    if (content === undefined) {
      if (answer.body !== undefined) problems.push(`a body was sent where status ${answer.status} declares none`);
      return problems;
    }
    if (mediaType === null || content[mediaType] === undefined) {
      problems.push(`content type ${mediaType} is not declared (declared: ${Object.keys(content).join(', ')})`);
      return problems;
    }
    if (mediaType === 'application/json') {
      const validate = this.schemaAt(
        pointer(
          '',
          'paths',
          route.template,
          method,
          'responses',
          String(answer.status),
          'content',
          mediaType,
          'schema',
        ),
      );
      if (!validate(answer.body)) {
        problems.push(...this.#ajv.errorsText(validate.errors, { separator: '\n' }).split('\n'));
      }
    }
    return problems;
  }
}

const documents = new Map<string, Promise<OpenApiAnswers>>();

/** The answer checker of the API at `apiUrl`, built once from its `/openapi.json`. */
export function openApiAnswersOf(apiUrl: string): Promise<OpenApiAnswers> {
  let answers = documents.get(apiUrl);
  if (answers === undefined) {
    answers = fetch(`${apiUrl}/openapi.json`).then(async (response) => {
      if (!response.ok) throw new Error(`GET /openapi.json answered ${response.status}`);
      return new OpenApiAnswers(await response.json());
    });
    documents.set(apiUrl, answers);
    answers.catch(() => documents.delete(apiUrl));
  }
  return answers;
}

/** Throws, naming every problem, when an answer does not match the document. */
export async function expectDocumentedAnswer(apiUrl: string, answer: ReceivedAnswer): Promise<void> {
  const problems = (await openApiAnswersOf(apiUrl)).check(answer);
  if (problems.length > 0) {
    throw new Error(
      `${answer.method} ${answer.path} answered ${answer.status}, which /openapi.json does not describe:\n  ${problems.join('\n  ')}\nbody: ${JSON.stringify(answer.body)?.slice(0, 2000)}`,
    );
  }
}
