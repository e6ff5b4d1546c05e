import { readFileSync } from 'node:fs';

/**
 * Reads a `.lua` file given relative to the calling module, e.g.
 * `readLuaScript(new URL('./lua/x.lua', import.meta.url))`; the build copies them beside the output.
 */
export function readLuaScript(url: URL): string {
  return readFileSync(url, 'utf8');
}
