// tsc copies only TypeScript output; Lua scripts are read at run time from beside their modules.
import { cpSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
for (const pkg of ['packages/core', 'apps/api']) {
  const source = join(root, pkg, 'src');
  for (const entry of readdirSync(source, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.lua')) continue;
    const from = join(entry.parentPath, entry.name);
    cpSync(from, join(root, pkg, 'dist', relative(source, from)));
  }
}
