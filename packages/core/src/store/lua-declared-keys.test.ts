import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { describe, expect } from 'vitest';
import { redisTest } from '@llmq/devkit/vitest';

/**
 * Redis Cluster routes a script by the keys it declares, so every key a Lua script reads or writes
 * must come in KEYS: a name built inside the script (from ARGV, by concatenation) is a key the
 * cluster does not know of. This reads every .lua file of the repository and checks each
 * redis.call/pcall: its key arguments, found by the Redis server's own key specs (COMMAND INFO),
 * must be `KEYS[...]` or a name whose every assignment in the file is `KEYS[...]`.
 *
 * A static check, kept small: a name is judged by all its assignments in the file, not by scope,
 * and `a, b = c, d` outside a `local` is read as `b = c`; a command whose keys move with its
 * arguments (EVAL, ZUNIONSTORE, ...) or key arguments hidden in an `unpack(...)` fail it, to be
 * checked by hand.
 */

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

function luaFiles(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || entry.name === 'node_modules' || entry.name === 'dist') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...luaFiles(path));
    else if (entry.name.endsWith('.lua')) found.push(path);
  }
  return found;
}

function sticky(pattern: RegExp, source: string, at: number): RegExpExecArray | null {
  pattern.lastIndex = at;
  return pattern.exec(source);
}

/** The source without comments; strings kept. */
function stripComments(source: string): string {
  let out = '';
  for (let at = 0; at < source.length;) {
    const char = source[at];
    const longString = sticky(/\[(=*)\[/y, source, at);
    if (source.startsWith('--', at)) {
      const long = sticky(/--\[(=*)\[/y, source, at);
      const end = long ? source.indexOf(`]${long[1]}]`, at) : source.indexOf('\n', at);
      at = end < 0 ? source.length : long ? end + (long[1]?.length ?? 0) + 2 : end;
    } else if (longString) {
      const end = source.indexOf(`]${longString[1]}]`, at);
      const stop = end < 0 ? source.length : end + longString[0].length;
      out += source.slice(at, stop);
      at = stop;
    } else if (char === "'" || char === '"') {
      let stop = at + 1;
      while (stop < source.length && source[stop] !== char) stop += source[stop] === '\\' ? 2 : 1;
      out += source.slice(at, stop + 1);
      at = stop + 1;
    } else {
      out += char;
      at += 1;
    }
  }
  return out;
}

/**
 * The expressions from `start` split at commas outside brackets and strings, up to the first
 * unmatched closer (or a newline outside brackets, when `stopAtNewline`). Returns them trimmed.
 */
function expressions(code: string, start: number, stopAtNewline = false): string[] {
  const parts: string[] = [];
  let depth = 0;
  let from = start;
  for (let at = start; at < code.length; at += 1) {
    const char = code[at] as string;
    if (char === "'" || char === '"') {
      at += 1;
      while (at < code.length && code[at] !== char) at += code[at] === '\\' ? 2 : 1;
    } else if ('([{'.includes(char)) depth += 1;
    else if (')]}'.includes(char) || (stopAtNewline && depth === 0 && (char === '\n' || char === ';'))) {
      if (depth === 0) {
        parts.push(code.slice(from, at).trim());
        return parts;
      }
      depth -= 1;
    } else if (char === ',' && depth === 0) {
      parts.push(code.slice(from, at).trim());
      from = at + 1;
    }
  }
  parts.push(code.slice(from).trim());
  return parts;
}

/** `KEYS[<anything>]` and nothing more: the bracket opened after KEYS closes at the very end. */
function isKeysReference(expression: string): boolean {
  if (!expression.startsWith('KEYS[')) return false;
  let depth = 0;
  for (let at = 'KEYS'.length; at < expression.length; at += 1) {
    const char = expression[at] as string;
    if ('([{'.includes(char)) depth += 1;
    else if (')]}'.includes(char) && (depth -= 1) === 0) return at === expression.length - 1;
  }
  return false;
}

/** Every right-hand side assigned to each name (plain, `local`, table field or `x.name`); parameters as ''. */
function assignments(code: string): Map<string, string[]> {
  const found = new Map<string, string[]>();
  const add = (name: string, value: string) => found.set(name, [...(found.get(name) ?? []), value]);
  for (const match of code.matchAll(/\blocal[ \t]+([A-Za-z_]\w*(?:[ \t]*,[ \t]*[A-Za-z_]\w*)+)[ \t]*=(?!=)/g)) {
    const values = expressions(code, (match.index ?? 0) + match[0].length, true);
    for (const [position, name] of (match[1] as string).split(',').entries()) add(name.trim(), values[position] ?? '');
  }
  for (const match of code.matchAll(/(?<![\w])([A-Za-z_]\w*)[ \t]*=(?![=])/g)) {
    add(match[1] as string, expressions(code, (match.index ?? 0) + match[0].length, true)[0] ?? '');
  }
  for (const match of code.matchAll(/\bfunction\b[\w.:\t ]*\(([^)]*)\)/g)) {
    for (const name of (match[1] as string).split(',')) if (name.trim()) add(name.trim(), '');
  }
  return found;
}

interface CommandKeys {
  first: number;
  last: number;
  step: number;
  movable: boolean;
}

/** Where `command`'s keys are, from the server (COMMAND INFO: first key, last key, step). */
async function commandKeys(redis: Redis, command: string): Promise<CommandKeys> {
  const [info] = (await redis.call('COMMAND', 'INFO', command)) as Array<
    [string, number, string[], number, number, number] | null
  >;
  if (!info) throw new Error(`unknown command ${command}`);
  const [, , flags, first, last, step] = info;
  return { first, last, step, movable: flags.includes('movablekeys') };
}

/** The problems of one file: calls whose key arguments are not declared keys. */
async function undeclaredKeys(redis: Redis, source: string): Promise<string[]> {
  const code = stripComments(source);
  const assigned = assignments(code);
  const declared = (expression: string): boolean => {
    if (isKeysReference(expression)) return true;
    if (!/^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*$/.test(expression)) return false;
    const values = assigned.get(expression.split('.').pop() as string) ?? [];
    return values.length > 0 && values.every(isKeysReference);
  };
  const problems: string[] = [];
  for (const match of code.matchAll(/\bredis\.p?call\s*\(/g)) {
    const args = expressions(code, (match.index ?? 0) + match[0].length);
    const call = `redis.call(${args.join(', ')})`.slice(0, 120);
    const command = /^'(\w+)'$|^"(\w+)"$/.exec(args[0] ?? '');
    if (!command) {
      problems.push(`${call}: the command is not a string literal`);
      continue;
    }
    const keys = await commandKeys(redis, (command[1] ?? command[2]) as string);
    if (keys.movable) {
      problems.push(`${call}: the command's keys move with its arguments`);
      continue;
    }
    if (keys.first === 0) continue;
    const last = keys.last < 0 ? args.length + keys.last : keys.last;
    if (keys.last < 0 && args.some((arg) => arg.startsWith('unpack('))) {
      problems.push(`${call}: key arguments in an unpack(...)`);
      continue;
    }
    for (let position = keys.first; position <= last; position += keys.step) {
      const arg = args[position];
      if (arg === undefined || !declared(arg)) problems.push(`${call}: key ${arg ?? '(none)'} is not from KEYS`);
    }
  }
  return problems;
}

const test = redisTest.extend('redis', async ({ redisUrl }, { onCleanup }) => {
  const redis = new Redis(redisUrl);
  onCleanup(() => void redis.quit().catch(() => undefined));
  return redis;
});

describe('Lua scripts declare every key they touch', () => {
  const files = luaFiles(ROOT);

  test('finds the scripts', () => {
    expect(files.length).toBeGreaterThanOrEqual(15);
    expect(files.map((file) => relative(ROOT, file))).toContain('packages/core/src/store/lua/transition-job.lua');
  });

  test.for(files.map((file) => relative(ROOT, file)))('%s', async (file, { redis }) => {
    expect(await undeclaredKeys(redis, readFileSync(join(ROOT, file), 'utf8'))).toEqual([]);
  });

  test('the check catches a key built from ARGV or by concatenation', async ({ redis }) => {
    const built = [
      "redis.call('ZADD', ARGV[1] .. ':' .. ARGV[3], 0, ARGV[2])",
      "local index = ARGV[1]\nredis.call('ZREM', index, 'x')",
      "local a, b = KEYS[1], ARGV[1]\nredis.call('GET', b)",
      "local key = KEYS[1]\nkey = key .. ':x'\nredis.call('GET', key)",
      "redis.call('GET', KEYS[1] .. ':x')",
      "redis.call('DEL', KEYS[1], ARGV[1])",
      "redis.call('DEL', unpack(KEYS))",
      "local function f(key) return redis.call('GET', key) end",
    ];
    for (const source of built) expect(await undeclaredKeys(redis, source), source).not.toEqual([]);
    const fine = [
      "redis.call('TIME')\nredis.call('PUBLISH', ARGV[1], 'x')",
      "local k = KEYS[2]\nredis.call('HSET', k, ARGV[1], ARGV[2])\nredis.call('DEL', KEYS[1], k)",
      "local t = { key = KEYS[3] }\nredis.call('PEXPIRE', t.key, 5)\nredis.call('HINCRBY', KEYS[tonumber(ARGV[1])], 'f', 1)",
      "-- redis.call('GET', ARGV[1])\nredis.call('GET', KEYS[1])",
    ];
    for (const source of fine) expect(await undeclaredKeys(redis, source), source).toEqual([]);
  });
});
