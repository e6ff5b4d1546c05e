import { readFileSync } from 'node:fs';

/** Reads a `.lua` file that sits beside this module (copied next to the build output too). */
export function readLuaScript(name: string): string {
  return readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), 'utf8');
}
