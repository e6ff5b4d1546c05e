import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';
import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';

/** Where the generated client lives: under the repository's node_modules, so `openapi-fetch` resolves. */
const CACHE_DIR = fileURLToPath(new URL('../../node_modules/.cache/', import.meta.url));

const COMPILER_OPTIONS: ts.CompilerOptions = {
  strict: true,
  noUncheckedIndexedAccess: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  skipLibCheck: true,
  types: [],
};

/** One compiler error: the 1-based line of `calls.ts` it is on, and its text. */
export interface CompileError {
  line: number;
  message: string;
}

export interface TypedClient {
  dir: string;
  /** Type-checks `source` as `calls.ts` next to the generated `llmq-api.d.ts`; `emit` writes `calls.js`. */
  compile(source: string, options?: { emit?: boolean }): CompileError[];
  /** Imports the emitted `calls.js`. */
  load<T>(): Promise<T>;
  remove(): Promise<void>;
}

/** Generates `llmq-api.d.ts` from an OpenAPI document with openapi-typescript, as a user would. */
export async function generateTypedClient(document: unknown): Promise<TypedClient> {
  await mkdir(CACHE_DIR, { recursive: true });
  const dir = await mkdtemp(join(CACHE_DIR, 'llmq-typed-client-'));
  await writeFile(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  await writeFile(join(dir, 'llmq-api.d.ts'), astToString(await openapiTS(document as never)));
  const callsPath = join(dir, 'calls.ts');
  return {
    dir,
    compile(source, options = {}) {
      ts.sys.writeFile(callsPath, source);
      const program = ts.createProgram([callsPath], {
        ...COMPILER_OPTIONS,
        noEmit: options.emit !== true,
        outDir: dir,
      });
      const diagnostics = [...ts.getPreEmitDiagnostics(program)];
      if (options.emit) diagnostics.push(...program.emit().diagnostics);
      return diagnostics.map((diagnostic) => ({
        line:
          diagnostic.file && diagnostic.start !== undefined
            ? diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start).line + 1
            : 0,
        message: ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'),
      }));
    },
    load: async <T>() => (await import(pathToFileURL(join(dir, 'calls.js')).href)) as T,
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** The 1-based lines that follow a `@ts-expect-error` comment. */
export function expectedErrorLines(source: string): number[] {
  return source
    .split('\n')
    .flatMap((line, index) => (line.trim().startsWith('// @ts-expect-error') ? [index + 2] : []));
}

/** `source` with its `@ts-expect-error` comments made plain comments, line for line. */
export const withoutExpectations = (source: string) => source.replaceAll('// @ts-expect-error', '// expected error');
